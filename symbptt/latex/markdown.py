"""The lecture as Markdown with ``$$…$$`` mathematics, for GitHub, KaTeX and MathJax.

Each chain is one ``$$\\begin{aligned}…\\end{aligned}$$`` block with its
justifications in a second column (``&&``): no ``align*``, no ``\\tag``, no
overlays, no macro of our own — only what KaTeX and MathJax know out of the box.
The sparse tensor, which Markdown cannot draw, becomes one small table per slice.
"""

from __future__ import annotations

from dataclasses import replace

from symbptt.latex import documents
from symbptt.latex.chains import Layout, chain, render
from symbptt.latex.documents import Lecture

MARKDOWN_LAYOUT = Layout(width=60.0)  # long expansions still get one line per t
_MARKDOWN_SPECIALS = set("\\`*_[]#|$")


def escape_markdown(text: str) -> str:
    """Text shown literally by Markdown renderers (GitHub's included), on one line."""
    flat = " ".join(text.split())
    out = []
    for char in flat:
        if char == "&":
            out.append("&amp;")
        elif char == "<":
            out.append("&lt;")
        elif char == ">":
            out.append("&gt;")
        elif char in _MARKDOWN_SPECIALS:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _math_block(latex: str) -> str:
    return f"$$\n{latex}\n$$"


def _chain_block(item, lecture: Lecture) -> str:
    built = chain(item, replace(MARKDOWN_LAYOUT, settings=documents.chain_settings(item, lecture)), documents.line_groups(item, lecture))
    return _math_block(render(built.rows, environment="aligned", plain_rules=True))


def model_block(lecture: Lecture) -> str:
    """The model's equations, as documents.model_equations but in ``aligned``."""
    return _math_block(documents.model_equations(lecture, environment="aligned"))


def tensor_tables(lecture: Lecture) -> str:
    """∂⁺s_k/∂W for the figure's d as one Markdown table per slice p."""
    from symbptt.model import RNN, k
    from symbptt.tensors import explicit_tensor

    d = lecture.drawn_d
    concrete = RNN.create(d=d, n=lecture.model.n, k=lecture.model.k, activation_name=lecture.model.activation.name)
    tensor = explicit_tensor(concrete, "W", k)
    printer = lecture.printer
    parts, nonzero = [], 0
    for p_value in range(d):
        header = "| | " + " | ".join(f"$r={r_value + 1}$" for r_value in range(d)) + " |"
        rule = "|---|" + "---|" * d
        rows = []
        for q_value in range(d):
            cells = []
            for r_value in range(d):
                entry = tensor[p_value, q_value, r_value]
                nonzero += entry != 0
                cells.append(f"${printer.doprint(entry)}$" if entry != 0 else "$0$")
            rows.append(f"| $q={q_value + 1}$ | " + " | ".join(cells) + " |")
        title = rf"Slice $p={p_value + 1}$: $\partial^{{+}} s_{{k{p_value + 1}}}/\partial W$"
        parts.append("\n".join([title, "", header, rule, *rows]))
    total = d**3
    summary = f"{nonzero} of {total} entries non-zero ($d^2$ of $d^3$ for $d = {d}$): only row $q = p$ of slice $p$."
    return "\n\n".join(parts + [summary])


def shape_table(lecture: Lecture, theta: str) -> str:
    from symbptt.bptt import BPTT

    bptt = BPTT(lecture.model, theta)
    table = dict(bptt.shape_table())
    lines = ["| quantity | shape |", "|---|---|"]
    for label, term in bptt.shape_terms():
        lines.append(f"| ${lecture.printer.doprint(term)}$ | ${table[label].latex()}$ |")
    factors = "".join(rf"({table[label].latex()})" for label, _ in bptt.shape_terms()[1:])
    lines.append(f"| product of the factors | ${factors} = {table['product of the factors'].latex()}$ |")
    return "\n".join(lines)


def _heading(item, lecture: Lecture) -> str:
    """The heading as the notes print it, its mathematics in ``$…$`` (GitHub renders it there),
    not the plain title whose ``s_{k−1}`` would show its braces."""
    return documents.heading(item, lecture)


def markdown(lecture: Lecture) -> str:
    """The whole lecture as Markdown."""
    out = [f"# {escape_markdown(lecture.title)}", ""]
    byline = " — ".join(escape_markdown(text) for text in (lecture.author, lecture.date) if text)
    if byline:
        out += [f"*{byline}*", ""]
    out += ["## The network and its notation", "", model_block(lecture), ""]
    out += [f"- {item}" for item in documents.notation_items(lecture)] + [""]
    shared = lecture.shared()
    if shared:
        out += ["## Local derivatives", ""]
        for item in shared:
            out += [f"### {_heading(item, lecture)}", "", _chain_block(item, lecture), ""]
    for theta in lecture.parameters:
        out += [f"## The gradient by ${theta}$", ""]
        for item in lecture.of_parameter(theta):
            out += [f"### {_heading(item, lecture)}", ""]
            if not documents._written_out(item, lecture):  # too long to read: counted, not written
                out += [documents.introduction(item, lecture), ""]
                continue
            out += [_chain_block(item, lecture), ""]
            if item.name == "explicit_s_W":
                out += [tensor_tables(lecture), ""]
            if item.name.startswith("bptt_"):
                out += [shape_table(lecture, theta), ""]
            if item.name.startswith("vectorised_") and theta in ("W", "U", "b"):
                recurrence = documents.delta_recurrence(lecture, environment="aligned")
                out += ["The back-propagated error, from the last step backwards:", "", _math_block(recurrence), ""]
    return "\n".join(out)

