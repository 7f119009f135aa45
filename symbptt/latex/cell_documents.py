"""Lecture notes, Beamer slides and a snippet for any cell given by its equations.

The content is :class:`~symbptt.cell.derive.CellDerivations` (every derivation the
engine makes for the cell); this module only arranges it:

- **notes**: an article — the cell's equations, a picture of one step drawn from
  them, the shapes and the notation; the local derivatives (∂L_t by each state, the
  state Jacobian, the back-propagated errors); then a section per parameter;
- **slides**: Beamer, one derivation per frame (split over frames when long), each
  step uncovered in turn;
- **snippet**: the ``align*`` blocks alone, to ``\\input`` into a lecture.

Every chain is laid out by :mod:`symbptt.latex.chains` (broken at the ``+`` of a sum
to fit the line); a row that still cannot fit is scaled down to the line's width, so
that TeX reports no overfull box. User text (title, author, date) is escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from symbptt.cell.derive import CellDerivations, equations_latex, preactivations_latex
from symbptt.errors import SymbpttError
from symbptt.latex.beamer import DECK_CLASS
from symbptt.latex.cell_diagram import cell_diagram
from symbptt.latex.chains import Layout, chain, render, split_frames
from symbptt.latex.escape import escape_comment, escape_text
from symbptt.latex.measure import math_width
from symbptt.latex.printer import to_latex
from symbptt.model import T_step, k, t

STYLES = ("notes", "slides", "snippet")
PACKAGES = ("amsmath", "amssymb", "bm", "booktabs", "tikz", "graphicx")

NOTES_LAYOUT = Layout(width=41.0, rule_size=r"\small", rule_scale=0.92)  # a4, 11 pt, 2.5 cm margins
SLIDES_LAYOUT = Layout(width=36.0, rule_size=r"\small", rule_scale=0.92)  # 16:9 Beamer, 11 pt; \small: read from the back
SNIPPET_LAYOUT = Layout(width=34.0, rule_size=r"\small", rule_scale=0.92)  # article, 10 pt
SLIDE_HEIGHT = 15.5  # em of 11 pt under a frame's title
SAFETY = 0.86


@dataclass(frozen=True)
class CellLecture:
    """What a document shows: the derivations and the words around them."""

    derived: CellDerivations
    title: str
    author: str = ""
    date: str = ""
    settings: dict | None = None
    shapes: bool = True  # the shape under each factor of the BPTT sums
    detail: str = "concise"  # concise: the lecture's story (cell_story) | full: every derivation

    @property
    def graph(self):
        return self.derived.view.graph


# --- pieces ------------------------------------------------------------------------------------


def _fit(rows, layout: Layout):
    """Rows too wide for the line even after breaking are scaled to the line (estimated width)."""
    budget = layout.width * SAFETY
    fitted = []
    for row in rows:
        width = math_width(row.body) + (math_width(row.left) if row.left else 0.0) + 1.5
        if width > budget:
            factor = max(budget / width, 0.3)
            # {}+: a continued sum's + stays binary inside the box (spaced like the rows around it)
            lead = "{}" if row.body.lstrip().startswith(("+", "-")) else ""
            body = rf"\scalebox{{{factor:.2f}}}{{$\displaystyle {lead}{row.body}$}}"
            left = row.left
            if row.left and math_width(row.left) > budget * 0.4:
                left = rf"\scalebox{{{factor:.2f}}}{{$\displaystyle {row.left}$}}"
            row = replace(row, body=body, left=left)
        fitted.append(row)
    return fitted


def _settings(item, lecture: CellLecture) -> dict:
    """The shape under each factor of the matrix-level chains, as the lecture asks for them."""
    settings = dict(lecture.settings or {})
    if lecture.shapes and item.name.split("_")[0] in ("bptt", "vectorised"):
        view = lecture.derived.view
        settings.update(show_shapes=True, dims={"s": view.stack_rows, "d": view.state_rows})
    return settings


ONE_ROW_MATRIX = re.compile(r"\\begin\{pmatrix\}((?:(?!\\end\{pmatrix\}|\\\\).)*)\\end\{pmatrix\}")


def block_rows(latex: str) -> str:
    """A one-row block matrix, ``(∂L_t/∂h_t  ∂L_t/∂c_t)``, as ``[(y_t − e_t)ᵀV, 0]``: in parentheses
    with a space for its column break it reads as a product (y_t − e_t)ᵀV · 0."""
    return ONE_ROW_MATRIX.sub(lambda found: r"\bigl[" + r",\; ".join(part.strip() for part in found.group(1).split("&"))
                              + r"\bigr]", latex)  # fmt: skip


def _chain(item, lecture: CellLecture, layout: Layout, groups=None):
    built = chain(item, replace(layout, settings=_settings(item, lecture)), groups)
    rows = tuple(replace(row, body=block_rows(row.body)) for row in built.rows)
    return replace(built, rows=tuple(_fit(rows, layout)))


def lecture_chain(item, lecture: CellLecture, layout: Layout):
    """A derivation laid out for ``layout``: broken at the ``+`` of a sum, too wide rows scaled."""
    return _chain(item, lecture, layout, _groups(item, lecture))


def fit_lines(lines: list[str], layout: Layout) -> list[str]:
    """``left &= body`` lines of an align*, a body too wide for the line scaled to it."""
    budget = layout.width * SAFETY
    out = []
    for line in lines:
        left, _, body = line.partition("&=")
        width = math_width(body) + math_width(left) + 1.5
        if width > budget:
            body = rf" \scalebox{{{max((budget - math_width(left)) / math_width(body), 0.3):.2f}}}{{$\displaystyle {body}$}}"
        out.append(f"{left}&={body}")
    return out


def _groups(item, lecture: CellLecture):
    """The expansion of a BPTT sum: one line per t."""
    if not item.name.startswith("expanded_"):
        return None
    name = item.name[len("expanded_"):]
    from symbptt.cell.bptt import CellBPTT

    chain_ = CellBPTT(lecture.derived.view, name)
    return [len(chain_.terms_at(step)) for step in range(1, lecture.derived.T + 1)]


def equations_block(lecture: CellLecture) -> str:
    rows = [rf"{left} &= {right}" for left, right in equations_latex(lecture.graph)]
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


def preactivations_line(lecture: CellLecture) -> str:
    named = preactivations_latex(lecture.graph)
    if not named:
        return ""
    return ("The derivations name the argument of each activation after its equation: "
            "\\begin{gather*}" + _wrap_gather(named) + "\\end{gather*}")


def _wrap_gather(named) -> str:
    lines, current = [], []
    for left, right in named:
        current.append(f"{left} = {right}")
        if math_width(",\\quad ".join(current)) > NOTES_LAYOUT.width * 0.8 and len(current) > 1:
            lines.append(",\\quad ".join(current[:-1]))
            current = current[-1:]
    lines.append(",\\quad ".join(current))
    return " \\\\ ".join(lines)


def loss_line(lecture: CellLecture) -> str:
    graph = lecture.graph
    view = lecture.derived.view
    output = to_latex(view.term(graph.output_node, t))
    if graph.loss == "cross-entropy":
        residual = view.output_residual(t)
        y, e = residual.terms[0].latex, residual.terms[1].factors[-1].latex
        return (rf"The loss is the cross-entropy of the softmax: ${y}_t = \operatorname{{softmax}}({output})$, "
                rf"$L_t = -\log {y}_{{t,\ell_t}}$ with $\ell_t$ the true class and ${e}_t$ its one-hot vector; "
                r"$L = \sum_{t=1}^{T} L_t$.")  # fmt: skip
    target = view.output_residual(t).terms[1].factors[-1].latex
    return (rf"The loss is the squared error $L_t = \tfrac12\lVert {output} - {{{target}}}_t\rVert^2$ with real "
            rf"targets ${{{target}}}_t$; $L = \sum_{{t=1}}^{{T}} L_t$.")  # fmt: skip


def quantities_table(lecture: CellLecture) -> str:
    graph = lecture.graph
    view = lecture.derived.view
    rows = []
    role = {graph.input_node: "input"}
    for state in graph.states:
        role[graph.defined[state]] = "state"
    role[graph.output_node] = "output"
    for equation in graph.equations:
        index = graph.defined[equation.name.key]
        rows.append((to_latex(view.term(index, t)), _shape(view, graph.nodes[index].shape), role.get(index, "intermediate")))
    rows.insert(0, (to_latex(view.term(graph.input_node, t)), _shape(view, ("n",)), "input"))
    for name in graph.parameters:
        index = graph.parameter_nodes[name]
        rows.append((to_latex(view.term(index)), _shape(view, graph.nodes[index].shape), "parameter"))
    grouped: dict = {}  # (role, shape) -> names, in the order they first appear
    for name, shape, what in rows:
        grouped.setdefault((what, shape), []).append(name)
    separator = r",\ "
    body = "\n".join(rf"${separator.join(names)}$ & ${shape}$ & {what} \\" for (what, shape), names in grouped.items())
    return "\n".join([r"\begin{tabular}{lll}", r"\toprule", r"quantities & shape & role \\", r"\midrule", body,
                      r"\bottomrule", r"\end{tabular}"])  # fmt: skip


def shape_latex(view, shape) -> str:
    """A shape as LaTeX: ``d\\times n``, a vector ``d\\times 1``."""
    return _shape(view, shape)


def _shape(view, shape) -> str:
    if not shape:
        return r"1\times 1"
    dims = [to_latex(view.size(dim)) for dim in shape]
    return r"\times ".join(dims + (["1"] if len(dims) == 1 else []))


def notation_items(lecture: CellLecture) -> list[str]:
    view = lecture.derived.view
    graph = lecture.graph
    items = [
        r"Entry $p$ of a vector at step $k$ is written $h_{kp}$ ($h_{k-1,r}$ when an index is compound); entry "
        r"$(q,r)$ of a parameter is $W_{qr}$, and a name with a subscript of its own is put in parentheses first: "
        r"$(W_{f})_{qr}$, $(b_{f})_{q}$.",
        r"$\partial^{+}$ is the explicit derivative: the states of the step before are held fixed.",
        r"$\delta_{pq}$ is the Kronecker delta; $\boldsymbol{\delta}_k$ is the back-propagated error "
        rf"$\nabla_{{{view.stack_latex}_k}} L$ (a column).",
        r"$[v]_p$ is entry $p$ of a row or column $v$ that has no name of its own.",
        r"Numerator layout: $\partial L/\partial v$ of a scalar by a column is a row; $\partial u/\partial v$ is "
        r"$\lvert u\rvert \times \lvert v\rvert$.",
    ]
    if view.preactivation:
        names = ", ".join(f"${to_latex(view.term(index, k))}$" for index in view.preactivation)
        items.append(r"An activation's argument that the equations leave unnamed is named after the equation it "
                     rf"stands in: {names}; so $f'(\cdot)$ reads as $\sigma'(a_k)$ does.")  # fmt: skip
    if not view.single:
        states = ", ".join(to_latex(view.state(state, k)) for state in graph.states)
        items.insert(2, rf"The state is ${view.stack_latex}_k = ({states})$, stacked; its Jacobian is a block matrix and "
                     rf"$\boldsymbol{{\delta}}_k$ has one block per state, "
                     + ", ".join(rf"$\boldsymbol{{\delta}}^{{{graph.names[state].latex}}}_k$" for state in graph.states)
                     + ".")  # fmt: skip
    return items


_HEADINGS = {
    "loss": "The derivative of the loss by the state",
    "jacobian": "The state Jacobian",
    "delta": "The back-propagated error",
    "element": "The explicit derivative, entry by entry",
    "bptt": "The BPTT sum for a general step",
    "expanded": "The sum written out",
    "collapse": "The explicit tensor collapses",
    "vectorised": "Vectorised, with the back-propagated errors",
}


def heading_math(lhs) -> str:
    """The left-hand side as inline mathematics: ∂ fractions written with a slash."""
    from symbptt import terms
    from symbptt.calculus import PartialD

    if isinstance(lhs, (terms.Deriv, PartialD)):
        mark = r"\partial^{+}" if lhs.explicit else r"\partial"
        return rf"{mark} {to_latex(lhs.num)}/\partial {to_latex(lhs.den)}"
    return to_latex(lhs)


def _heading(item) -> str:
    """A heading for a derivation: what it is, in words, and its left-hand side."""
    kind = item.name.split("_")[0]
    words = _HEADINGS.get(kind, "Derivation")
    if kind == "expanded":
        words = "The sum written out for " + escape_text(item.title.split("for ", 1)[-1].split(":")[0], "title")
    if kind == "loss" and item.lhs.__class__.__name__ == "PartialD":
        words = "The output's own part, entry by entry"
    return rf"{words}: ${heading_math(item.lhs)}$"


def _notes_block(item, lecture: CellLecture) -> list[str]:
    built = _chain(item, lecture, NOTES_LAYOUT, _groups(item, lecture))
    block = ["", rf"\subsection*{{{_heading(item)}}}", render(built.rows, built.rule_size)]
    remark = _remark(item, lecture)
    if remark:
        block.append(remark)
    return block


def _remark(item, lecture: CellLecture) -> str:
    """What a derivation's notes say, as LaTeX: the last step of a back-propagated error."""
    if not item.name.startswith("delta_"):
        return ""
    from symbptt.cell.bptt import adjoint_rules

    state = item.name[len("delta_"):]
    last, _, _, _ = adjoint_rules(lecture.derived.view)[state]
    lhs = to_latex(item.lhs.subs({k: T_step}))
    return rf"At the last step nothing comes after $T$: ${lhs} = {to_latex(last)}$."


def _header(lecture: CellLecture, style: str) -> str:
    graph = lecture.graph
    sizes = ", ".join(f"{letter} = {graph.size(letter)}" for letter in ("d", "n", "k"))
    return (f"% {style} generated by symbptt from the derivations of the cell "
            f"{escape_comment(graph.model.name)}: {escape_comment(lecture.title)}\n% {sizes}, T = {lecture.derived.T}\n")


def _title_block(lecture: CellLecture) -> str:
    date = escape_text(lecture.date, "date") if lecture.date else r"\today"
    return (rf"\title{{{escape_text(lecture.title, 'title')}}}" + "\n"
            + rf"\author{{{escape_text(lecture.author, 'author')}}}" + "\n" + rf"\date{{{date}}}")  # fmt: skip


def _parameter_title(lecture: CellLecture, name: str) -> str:
    view = lecture.derived.view
    return rf"The gradient by ${to_latex(view.parameter(name))}$"


def _preamble() -> str:
    return rf"\usepackage{{{','.join(PACKAGES)}}}"


# --- documents ---------------------------------------------------------------------------------


STORY_NOTES_LAYOUT = Layout(width=41.0, rule_size=r"\small", rule_scale=0.92)  # a4, 11 pt, 2.5 cm margins
STORY_SLIDES_LAYOUT = Layout(width=36.0, rule_size=r"\small", rule_scale=0.92)  # 16:9 Beamer, 11 pt


def _story_notes(lecture: CellLecture) -> str:
    """The concise notes: the lecture's story, a section per part, a subsection per page."""
    from symbptt.latex.cell_story import CellStory
    from symbptt.latex.diagrams import TIKZ_STYLES_NOTES
    from symbptt.latex.documents import CAPTION_MACROS
    from symbptt.latex.story import Mode

    out = [
        _header(lecture, "Lecture notes"),
        r"\documentclass[11pt,a4paper]{article}",
        r"\usepackage[margin=2.5cm]{geometry}",
        _preamble(),
        r"\allowdisplaybreaks",
        r"\renewcommand{\labelitemi}{$\bullet$}",
        r"\setlength{\parindent}{0pt}\setlength{\parskip}{0.6ex plus 0.2ex}",
        CAPTION_MACROS,
        TIKZ_STYLES_NOTES,
        _title_block(lecture),
        r"\begin{document}",
        r"\maketitle",
    ]
    section = None
    for page in CellStory(lecture, Mode(slides=False, layout=STORY_NOTES_LAYOUT)).pages():
        if page.section != section:
            section = page.section
            out += ["", rf"\section{{{_math_names(section, lecture)}}}"]
        out += ["", rf"\subsection{{{page.title}}}", *(piece for piece in page.body if piece)]
    out += ["", r"\end{document}", ""]
    return "\n".join(out)


def _story_slides(lecture: CellLecture) -> str:
    """The concise deck: the lecture's story, a frame per page."""
    from symbptt.latex.cell_story import CellStory
    from symbptt.latex.diagrams import TIKZ_STYLES_SLIDES
    from symbptt.latex.story import Mode

    out = [
        _header(lecture, "Beamer slides"),
        *DECK_CLASS,
        _preamble(),
        TIKZ_STYLES_SLIDES,
        r"\setlength{\jot}{2pt}  % rows of a chain a little closer: a six-step chain fits one frame",
        _title_block(lecture),
        r"\begin{document}",
        r"\begin{frame}", r"\titlepage", r"\end{frame}",
    ]  # fmt: skip
    for page in CellStory(lecture, Mode(slides=True, layout=STORY_SLIDES_LAYOUT)).pages():
        out.append(_frame(page.title, [piece for piece in page.body if piece]))
    out += [r"\end{document}", ""]
    return "\n".join(out)


def _math_names(section: str, lecture: CellLecture) -> str:
    """A section named after a parameter (``The gradient by U_f``) with the name as mathematics."""
    prefix = "The gradient by "
    if section.startswith(prefix):
        return rf"{prefix}${to_latex(lecture.derived.view.parameter(section[len(prefix):]))}$"
    return section


def notes(lecture: CellLecture) -> str:
    """Lecture notes: the lecture's story (concise) or every derivation, a section per parameter (full)."""
    return _story_notes(lecture) if lecture.detail == "concise" else full_notes(lecture)


def slides(lecture: CellLecture) -> str:
    """Beamer slides: the lecture's story (concise) or every derivation, a frame each (full)."""
    return _story_slides(lecture) if lecture.detail == "concise" else full_slides(lecture)


def full_notes(lecture: CellLecture) -> str:
    view = lecture.derived.view
    diagram = cell_diagram(view, 15.0)
    out = [
        _header(lecture, "Lecture notes"),
        r"\documentclass[11pt,a4paper]{article}",
        r"\usepackage[margin=2.5cm]{geometry}",
        _preamble(),
        r"\allowdisplaybreaks",
        r"\renewcommand{\labelitemi}{$\bullet$}",
        r"\setlength{\parindent}{0pt}\setlength{\parskip}{0.6ex plus 0.2ex}",
        _title_block(lecture),
        r"\begin{document}",
        r"\maketitle",
        "",
        r"\section{The cell and its notation}",
        rf"One step of the cell, from the state at $t-1$ and the input ${to_latex(view.term(lecture.graph.input_node, t))}$:",
        equations_block(lecture),
        preactivations_line(lecture),
        loss_line(lecture),
        r"\begin{figure}[htbp]", r"\centering", diagram.tikz, rf"\caption{{{diagram.caption}}}", r"\end{figure}",
        r"\begin{center}", quantities_table(lecture), r"\end{center}",
        r"\begin{itemize}", *(rf"\item {item}" for item in notation_items(lecture)), r"\end{itemize}",
        "",
        r"\section{Local derivatives}",
        "Each Jacobian is the sum, over the paths of the step's graph, of the products of the local "
        "Jacobians of the operations along the path; the back-propagated errors come from the operations' "
        "reverse rules.",
    ]  # fmt: skip
    for item in lecture.derived.shared:
        out += _notes_block(item, lecture)
    for name, items in lecture.derived.by_parameter.items():
        out += ["", rf"\section{{{_parameter_title(lecture, name)}}}"]
        for item in items:
            out += _notes_block(item, lecture)
    out += ["", r"\end{document}", ""]
    return "\n".join(out)


def _frame(title: str, body: list[str], options: str = "t") -> str:
    return "\n".join([rf"\begin{{frame}}[{options}]{{{title}}}", *body, r"\end{frame}"])


def _slide_frames(item, lecture: CellLecture) -> list[str]:
    built = _chain(item, lecture, SLIDES_LAYOUT, _groups(item, lecture))
    frames = split_frames(built, SLIDE_HEIGHT)
    title = _heading(item)
    out = []
    for number, rows in enumerate(frames):
        suffix = "" if len(frames) == 1 else rf" \quad{{\normalsize({number + 1}/{len(frames)})}}"
        out.append(_frame(rf"\small {title}{suffix}", [render(list(rows), built.rule_size, overlays=True)]))
    return out


def full_slides(lecture: CellLecture) -> str:
    view = lecture.derived.view
    diagram = cell_diagram(view, 13.0)
    out = [
        _header(lecture, "Beamer slides"),
        *DECK_CLASS,
        _preamble(),
        _title_block(lecture),
        r"\begin{document}",
        r"\begin{frame}", r"\titlepage", r"\end{frame}",
        _frame("The cell", [equations_block(lecture), r"{\small " + loss_line(lecture) + "}"]),
        *([_frame("The activations' arguments", [r"\small " + preactivations_line(lecture)])]
          if preactivations_line(lecture) else []),
        _frame("One step, drawn from the equations", [r"\centering", diagram.tikz]),
        _frame("Shapes", [r"\centering\small", quantities_table(lecture)]),
        _frame("Notation", [r"\small", r"\begin{itemize}", *(rf"\item {item}" for item in notation_items(lecture)),
                            r"\end{itemize}"]),
    ]  # fmt: skip
    for item in lecture.derived.shared:
        out += _slide_frames(item, lecture)
    for name, items in lecture.derived.by_parameter.items():
        theta = to_latex(view.parameter(name))
        out.append(_frame(_parameter_title(lecture, name), [r"\centering\Large",
                          rf"$\dfrac{{\partial L}}{{\partial {theta}}} = \displaystyle\sum_{{t=1}}^{{T}} \dfrac{{\partial L_t}}{{\partial {theta}}}$"],
                          options="c"))  # fmt: skip
        for item in items:
            out += _slide_frames(item, lecture)
    out += [r"\end{document}", ""]
    return "\n".join(out)


def snippet(lecture: CellLecture) -> str:
    out = [
        _header(lecture, "Snippet"),
        f"% Needs: \\usepackage{{{','.join(PACKAGES)}}}, and \\allowdisplaybreaks in the preamble for the long chains",
        "% Each block is one derivation, each line justified; \\input it where the lecture needs it.",
        "",
        "% The cell",
        equations_block(lecture),
        preactivations_line(lecture),
        "",
    ]
    for item in [*lecture.derived.shared, *(i for items in lecture.derived.by_parameter.values() for i in items)]:
        built = _chain(item, lecture, SNIPPET_LAYOUT, _groups(item, lecture))
        out += [f"% {escape_comment(item.title)}", render(built.rows, built.rule_size), ""]
    return "\n".join(out)


MARKDOWN_LAYOUT = Layout(width=60.0)
_MARKDOWN_SPECIALS = set("\\`*_[]#|$<>&")


def _markdown_text(text: str) -> str:
    """Words shown literally by Markdown renderers, on one line; s_{k−1} as s_(k−1): a heading
    shows braces as they are."""
    import re

    text = re.sub(r"([_^])\{([^{}]*)\}", r"\1(\2)", text)
    return "".join("\\" + char if char in _MARKDOWN_SPECIALS else char for char in " ".join(text.split()))


def markdown(lecture: CellLecture) -> str:
    """The notes as Markdown: ``$$\\begin{aligned}…$$`` blocks with the justifications in a second
    column, only what KaTeX and MathJax know (no \\tag, no \\scalebox, no TikZ)."""
    out = [f"# {_markdown_text(lecture.title)}", ""]
    if lecture.author:
        out += [_markdown_text(lecture.author), ""]
    equations = "\\begin{aligned}\n" + " \\\\\n".join(
        rf"{left} &= {right}" for left, right in equations_latex(lecture.graph)) + "\n\\end{aligned}"
    out += ["## The cell", "", f"$$\n{equations}\n$$", ""]
    named = preactivations_latex(lecture.graph)
    if named:
        names = ",\\quad ".join(f"{left} = {right}" for left, right in named)
        out += ["The derivations name the argument of each activation after its equation:", "", f"$$\n{names}\n$$", ""]
    from symbptt.display import as_text

    sections = [("Local derivatives", lecture.derived.shared)]
    view = lecture.derived.view
    # Headings in plain words (U\_f, not $U_{f}$): a renderer shows braces in a heading literally.
    by_parameter = lecture.derived.by_parameter
    if lecture.detail == "concise":  # one parameter in full, the others by their vectorised gradient
        from symbptt.latex.cell_story import worked_parameter

        worked = worked_parameter(lecture.derived)
        sections += [(f"The gradient by {_markdown_text(as_text(view.parameter(worked)))}", by_parameter[worked])] if worked else []
        others = [items[-1] for name, items in by_parameter.items() if name != worked]
        if others:
            sections.append(("The other parameters, vectorised", others))
    else:
        sections += [(f"The gradient by {_markdown_text(as_text(view.parameter(name)))}", items)
                     for name, items in by_parameter.items()]  # fmt: skip
    for heading, items in sections:
        out += [f"## {heading}", ""]
        for item in items:
            built = chain(item, replace(MARKDOWN_LAYOUT, settings=_settings(item, lecture)), _groups(item, lecture))
            out += [f"### {_markdown_text(item.title)}", "",
                    "$$\n" + render(built.rows, environment="aligned", plain_rules=True) + "\n$$", ""]  # fmt: skip
    from symbptt.latex.cell_story import tidy

    return tidy("\n".join(out))


BUILDERS = {"notes": notes, "slides": slides, "snippet": snippet}


def build(style: str, lecture: CellLecture) -> str:
    try:
        builder = BUILDERS[style]
    except KeyError:
        raise SymbpttError(f"unknown style {style!r} (choose from {', '.join(STYLES)})", "style") from None
    from symbptt.latex.cell_story import tidy

    return tidy(builder(lecture))  # a^{f}_{k}, not {a^{f}}_{k}, wherever no ᵀ follows


def standalone(snippet_source: str) -> str:
    """A snippet in a minimal article: how ``--pdf`` and the tests compile a snippet."""
    return "\n".join([r"\documentclass[10pt]{article}", _preamble(), r"\allowdisplaybreaks", r"\begin{document}",
                      snippet_source, r"\end{document}", ""])  # fmt: skip
