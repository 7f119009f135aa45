"""Markdown for GitHub, KaTeX and MathJax: $$ blocks with aligned, no macros of our own,
nothing those renderers lack; and Jupyter's _repr_latex_ likewise."""

import re

from symbptt.latex.markdown import escape_markdown, markdown
from symbptt.lecture import derivations_for
from symbptt.model import RNN

# What KaTeX and MathJax do not know without extensions, or what only LaTeX documents have.
NOT_IN_KATEX = (r"\bm{", r"\tag", r"\noalign", r"\uncover", r"\begin{align*}", r"\hbox", r"\newcommand", r"\def")


def test_every_chain_is_an_aligned_block(lecture):
    text = markdown(lecture)
    blocks = re.findall(r"^\$\$\n(.*?)\n\$\$$", text, re.MULTILINE | re.DOTALL)
    assert text.count("$$") == 2 * len(blocks)
    assert len(blocks) >= len(lecture.derivations)
    for block in blocks:
        assert block.startswith(r"\begin{aligned}") and block.endswith(r"\end{aligned}")
        assert block.count(r"\left") == block.count(r"\right")
    for forbidden in NOT_IN_KATEX:
        assert forbidden not in text


def test_the_sparse_tensor_becomes_tables(lecture):
    text = markdown(lecture)
    assert "Slice $p=1$" in text and r"| $q=1$ | $\sigma'(a_{k1}) s_{k-1,1}$ |" in text
    assert "9 of 27 entries non-zero" in text


def test_markdown_specials_in_user_text_are_escaped():
    assert escape_markdown("a_b *c* <script> [x](y) $z$") == r"a\_b \*c\* &lt;script&gt; \[x\](y) \$z\$"


def test_repr_latex_uses_aligned_and_boldsymbol():
    for topic in ("bptt", "jacobian-chain", "truncated-bptt"):
        for item in derivations_for(RNN.create(), ("W", "U", "V", "b", "c"), 2, topic, 2):
            text = item._repr_latex_()
            assert text.startswith("$$\\begin{aligned}") and text.endswith("\\end{aligned}$$")
            assert r"\bm{" not in text
