"""User text (title, author, names) is typeset literally: TeX's specials are escaped by us,
accents go through latexcodec, and ``^^`` (TeX's notation for any character) is refused."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symbptt.errors import SymbpttError
from symbptt.latex.escape import escape_comment, escape_text


def test_specials_become_commands_that_print_them():
    assert escape_text("50% & $5 #1") == r"50\% \& \$5 \#1"
    assert escape_text(r"\input{x}") == r"{\ttfamily\char92}input{\ttfamily\char123}x{\ttfamily\char125}"
    assert escape_text("a_b^c~") == r"a{\ttfamily\char95}b{\ttfamily\char94}c{\ttfamily\char126}"


def test_accents_go_through_latexcodec_and_a_control_word_is_closed():
    assert escape_text("Khapra, Müller") == r'Khapra, M\"uller'
    assert escape_text("ßt") == r"\ss{}t"
    assert escape_text("é") == r"\'e"


def test_ligatures_are_broken_so_that_dashes_and_quotes_stay_literal():
    assert escape_text("--") == "-{}-"
    # ` and ' are drawn from the typewriter font: the text font's are curly quotes
    assert escape_text("``") == r"{\ttfamily\char96}{}{\ttfamily\char96}"
    assert escape_text("it's") == r"it{\ttfamily\char39}s"


@pytest.mark.parametrize("text", ["^^5c", "a^^Mb", "^^^^005c"])
def test_double_caret_is_refused(text):
    with pytest.raises(SymbpttError, match=r"\^\^"):
        escape_text(text, "title")


def test_control_characters_are_refused_and_newlines_become_spaces():
    with pytest.raises(SymbpttError, match="U\\+0000"):
        escape_text("a\x00b")
    assert escape_text("a\nb\tc") == "a b c"


def test_a_character_pdflatex_cannot_set_is_an_error_not_a_crash():
    with pytest.raises(SymbpttError, match="U\\+4E2D"):
        escape_text("中")


def test_comments_stay_comments():
    assert escape_comment("two\nlines ^^M") == "two lines ^ ^M"


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60))
def test_no_user_character_survives_as_a_tex_special(text):
    if "^^" in text:
        return
    out = escape_text(text)
    # Every backslash, brace, caret, underscore, tilde, $, &, #, % in the output is ours:
    # inside \char commands, in \ttfamily groups or escaped with a backslash.
    stripped = out
    for ours in (r"{\ttfamily\char", r"\$", r"\&", r"\#", r"\%", "{}"):
        stripped = stripped.replace(ours, "")
    for digits in ("92}", "123}", "125}", "94}", "95}", "126}", "60}", "62}", "124}", "34}", "96}", "39}"):
        stripped = stripped.replace(digits, "")
    assert not set(stripped) & set("\\{}$&#^_%~")
