"""A corpus of TeX injections comes out of the PDF as literal text, and TeX reads and writes
nothing outside its temporary folder (kpathsea's openin_any=p and openout_any=p)."""

import re
import unicodedata

import pytest

from symbptt.errors import TexError
from symbptt.latex.compile import compile_document
from symbptt.latex.documents import build
from symbptt.latex.escape import escape_text
from tests.latex.helpers import make_lecture, needs_poppler, needs_tex, pdf_text

CORPUS = [
    r"\input{/etc/passwd}",
    r"\write18{rm -rf ~}",
    r"\immediate\write18{touch /tmp/symbptt-pwned}",
    r"\openin5=/etc/passwd \read5 to\secret",
    r"\catcode`\{=12 \catcode`\$=11 \makeatletter",
    r"\csname input\endcsname{/etc/hostname}",
    r"\def\x{\x}\x \end{document}",
    r"$\sum$ & # % _ ^ ~ { } | < > --",
    "Müller, Khapra — “quoted”",
]
SECRET = "CANARY-7f3a9-SECRET"


def literal(text: str) -> str:
    """What pdftotext gives back, compared without spaces and with plain quotes."""
    composed = unicodedata.normalize("NFC", text)  # pdftotext may give u + ¨ for ü
    return re.sub(r"\s+", "", composed.replace("’", "'").replace("‘", "`"))


@pytest.fixture
def canary(tmp_path):
    path = tmp_path / "canary.tex"
    path.write_text(SECRET + "\n")
    return path


@needs_tex
@needs_poppler
def test_the_corpus_is_printed_literally(tmp_path, canary):
    corpus = [*CORPUS, rf"\input{{{canary}}}"]
    body = "\n\n".join(escape_text(line) for line in corpus)
    work = tmp_path / "work"
    work.mkdir()
    result = compile_document("\\documentclass{article}\n\\begin{document}\n" + body + "\n\\end{document}\n",
                              "corpus", workdir_parent=work)  # fmt: skip
    text = literal(pdf_text(result.pdf, tmp_path))
    for line in corpus:
        assert literal(line) in text, line
    assert SECRET not in text
    assert list(work.iterdir()) == []  # the temporary folder is gone


@needs_tex
@needs_poppler
@pytest.mark.parametrize("style", ["notes", "slides"])
def test_title_and_author_cannot_inject(style, tmp_path, canary):
    lecture = make_lecture(parameters=("c",), title=rf"\input{{{canary}}} \write18{{id}}",
                           author=r"\catcode`\&=12 \openout1=x", date="~")
    result = compile_document(build(style, lecture), style)
    text = literal(pdf_text(result.pdf, tmp_path))
    assert literal(rf"\input{{{canary}}}\write18{{id}}") in text and literal(r"\catcode`\&=12 \openout1=x") in text
    assert SECRET not in text


def test_double_caret_in_a_title_is_refused():
    from symbptt.errors import SymbpttError

    with pytest.raises(SymbpttError):
        build("notes", make_lecture(parameters=("c",), title="^^5cinput{/etc/passwd}"))


@needs_tex
def test_tex_itself_cannot_read_an_absolute_path(canary):
    source = "\\documentclass{article}\n\\begin{document}\n\\input{" + str(canary) + "}\n\\end{document}\n"
    with pytest.raises(TexError, match="not found"):
        compile_document(source, "reader")


@needs_tex
def test_tex_itself_cannot_write_outside_its_folder(tmp_path):
    target = tmp_path / "written.txt"
    source = ("\\documentclass{article}\n\\begin{document}\n\\immediate\\openout5=" + str(target)
              + " \\immediate\\write5{x}\\immediate\\closeout5 x\n\\end{document}\n")  # fmt: skip
    with pytest.raises(TexError, match="write"):
        compile_document(source, "writer")
    assert not target.exists()


@needs_tex
def test_shell_escape_is_off(tmp_path):
    marker = tmp_path / "pwned"
    source = ("\\documentclass{article}\n\\begin{document}\n\\immediate\\write18{touch " + str(marker) + "}\nx\n\\end{document}\n")
    compile_document(source, "shell")  # \write18 goes to the log, not to a shell
    assert not marker.exists()
