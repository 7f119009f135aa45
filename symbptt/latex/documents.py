"""Whole documents from the engine's derivations: lecture notes, Beamer slides, a snippet.

The three share their content (:class:`Lecture`: the derivations, the model, what
to show) and differ in how they set it:

- **notes**: an article with title, author and date; a section for the network
  and its notation, one for the local derivatives, and one per parameter with the
  explicit tensor (and its picture), the BPTT sum with the shape of every factor
  and the lecture's table of shapes, its expansion, the collapse of the sparse
  tensor and the vectorised form with the δ recurrence;
- **slides**: Beamer, one idea per frame, each chain revealed step by step
  (``\\uncover`` overlays), long chains split over frames so that nothing overflows;
- **snippet**: only the environments (``align*``, the figure, the tables) to
  ``\\input`` into an existing lecture; it needs amsmath, amssymb, booktabs and tikz.

Only packages of TeX Live's latex-base, latex-recommended, fonts-recommended and
pictures sets are used. User text (title, author, date) goes through
:func:`symbptt.latex.escape.escape_text`; everything else is printed from our objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from symbptt.errors import SymbpttError
from symbptt.latex.beamer import DECK_CLASS
from symbptt.latex.chains import Layout, chain, inline_fractions, render, split_frames
from symbptt.latex.diagrams import TIKZ_STYLES_NOTES, TIKZ_STYLES_SLIDES
from symbptt.latex.escape import escape_comment, escape_text
from symbptt.latex.figures import MAX_FIGURE_D, tensor_figure
from symbptt.latex.printer import LecturePrinter
from symbptt.model import RNN, T_step, k

STYLES = ("notes", "slides", "snippet")
DETAILS = ("concise", "full")  # the lecture's story (default), or every derivation of every parameter
PACKAGES = ("amsmath", "amssymb", "bm", "booktabs", "tikz")

# Line widths in em of the display font, from the page geometry below.
NOTES_LAYOUT = Layout(width=41.0, rule_size=r"\small", rule_scale=0.92)  # a4, 11 pt, 2.5 cm margins: 160 mm
# Justifications at \small on slides too: read from the back of a room, \footnotesize is too small.
SLIDES_LAYOUT = Layout(width=36.0, rule_size=r"\small", rule_scale=0.92)  # 16:9 Beamer, 11 pt: 140 mm
SNIPPET_LAYOUT = Layout(width=34.0, rule_size=r"\small", rule_scale=0.92)  # article, 10 pt: 345 pt
SLIDE_HEIGHT = 20.5  # em of 11 pt under the frame title of a 16:9 Beamer frame
REMARK_HEIGHT = 2.8  # a two-line remark under the last chain of a frame
MAX_WRITTEN_TERMS = 10  # a longer expansion of the BPTT sum is counted, not written out
NUMERIC_D = 4  # the d of a document's tables and plots when its own d is a symbol (said in the caption)


@dataclass(frozen=True)
class Lecture:
    """What a document shows: the derivations and how to present them."""

    model: RNN
    derivations: tuple  # symbptt.derivation.Derivation, in the lecture's order
    parameters: tuple[str, ...]
    T: int
    title: str = "Backpropagation through time"
    author: str = ""
    date: str = ""
    topic: str = "bptt"
    tau: int = 3
    figure_d: int = 3
    shapes: bool = True
    settings: dict = field(default_factory=dict)  # LecturePrinter settings (index style, error symbol)
    detail: str = "concise"

    def __post_init__(self):
        if not 1 <= self.figure_d <= MAX_FIGURE_D:
            raise SymbpttError(f"the figure is drawn for d = 1 … {MAX_FIGURE_D}, not {self.figure_d}", "figure d")
        if self.detail not in DETAILS:
            raise SymbpttError(f"unknown detail {self.detail!r} (choose from {', '.join(DETAILS)})", "detail")

    @property
    def drawn_d(self) -> int:
        """The d of the tensor figure: the network's own d when it is a number small enough to draw."""
        d = self.model.d
        return int(d) if d.is_Integer and int(d) <= MAX_FIGURE_D else self.figure_d

    @property
    def numeric_d(self) -> int:
        """The d of the document's tables and plots: its own d when it is a number."""
        return int(self.model.d) if self.model.d.is_Integer else NUMERIC_D

    @property
    def tells_story(self) -> bool:
        """The concise lecture: the BPTT topic, with W (the lecture's parameter) among those shown."""
        return self.detail == "concise" and self.topic == "bptt" and "W" in self.parameters

    @property
    def printer(self) -> LecturePrinter:
        return LecturePrinter(self.settings)

    def by_name(self, name: str):
        return next((item for item in self.derivations if item.name == name), None)

    def shared(self) -> list:
        """The derivations that belong to no single parameter: ∂L_t/∂o_t, ∂L_t/∂s_t, the Jacobian."""
        return [item for item in self.derivations if _parameter_of(item.name) is None]

    def of_parameter(self, name: str) -> list:
        return [item for item in self.derivations if _parameter_of(item.name) == name]


_PER_PARAMETER = ("explicit_s_", "bptt_", "expanded_", "element_", "vectorised_", "truncated_", "loss_")


def _parameter_of(name: str) -> str | None:
    for prefix in _PER_PARAMETER:
        if name.startswith(prefix) and name[len(prefix):] in ("W", "U", "V", "b", "c"):
            return name[len(prefix):]
    return None


# --- what each derivation is called and how it is introduced -------------------------------


def heading(item, lecture: Lecture) -> str:
    """The LaTeX title of a derivation (for a section or a frame)."""
    name = item.name
    theta = _parameter_of(name)
    titles = {
        "loss_o": r"The loss by the output: $\partial L_t/\partial o_t$",
        "loss_s": r"The loss by the state: $\partial L_t/\partial s_t$",
        "jacobian": r"One Jacobian: $\partial s_k/\partial s_{k-1}$",
        "jacobian_chain": r"The Jacobian chain and the vanishing-gradient bound",
    }
    if name in titles:
        return titles[name]
    if theta is not None:
        prefix = name[: -len(theta)]
        per_parameter = {
            "explicit_s_": rf"The explicit derivative $\partial^{{+}} s_k/\partial {theta}$, one element",
            "bptt_": rf"$\partial L_t/\partial {theta}$ for a general step $t$",
            "expanded_": rf"$\partial L/\partial {theta}$ written out for $T = {lecture.T}$",
            "element_": rf"The sparse tensor collapses: $\partial L_t/\partial {theta}_{{{_indices(theta)}}}$",
            "truncated_": rf"Truncated BPTT for $\partial L_t/\partial {theta}$",
            "vectorised_": rf"$\partial L/\partial {theta}$, vectorised",
            "loss_": rf"$\partial L_t/\partial {theta}$, element by element",
        }
        return per_parameter[prefix]
    return _escaped_title(item)


def _indices(theta: str) -> str:
    return "q" if theta in ("b", "c") else "qr"


def _escaped_title(item) -> str:
    try:
        return escape_text(item.title, "title")
    except SymbpttError:
        return escape_text(item.name, "title")


def introduction(item, lecture: Lecture) -> str:
    """One or two sentences that say what the chain below does (notes only)."""
    name, theta = item.name, _parameter_of(item.name)
    prime = lecture.model.activation.derivative.display_latex
    error = lecture.printer.doprint(_delta(k))
    if name == "loss_o":
        return (r"Softmax and cross-entropy together: the derivative of $L_t = -\log y_{t\ell_t}$ by one entry "
                r"$o_{tq}$ of the output, where $e_t$ is the one-hot vector of the true class $\ell_t$.")  # fmt: skip
    if name == "loss_s":
        return r"Through $o_t = V s_t + c$, entry by entry: together they form the row $\partial L_t/\partial s_t = (y_t - e_t)^{\top} V$ ($1\times d$)."
    if name == "jacobian":
        return rf"Entry $(p,q)$ of the Jacobian of one step; together the entries form $\operatorname{{diag}}({prime}(a_k))\,W$ ($d\times d$)."
    if name == "jacobian_chain":
        return r"The factor $\partial s_t/\partial s_k$ of the BPTT sum is a product of $t-k$ Jacobians; its norm decides whether the gradient vanishes or explodes."
    if theta is None:
        return ""
    prefix = name[: -len(theta)]
    recurrent = theta in ("W", "U", "b")
    if prefix == "explicit_s_":
        shape = {"W": r"d\times d\times d", "U": r"d\times d\times n", "b": r"d\times d"}[theta]
        element = {"W": "$(p,q,r)$", "U": "$(p,q,r)$", "b": "$(p,q)$"}[theta]
        return (rf"The element {element} of the ${shape}$ tensor $\partial^{{+}} s_k/\partial {theta}$: the derivative of one "
                rf"entry of $s_k$ by one entry of ${theta}$, with $s_{{k-1}}$ held fixed ($\partial^{{+}}$, the explicit derivative).")  # fmt: skip
    if prefix == "bptt_":
        through = "every earlier state $s_k$, $k \\le t$" if recurrent else "the output $o_t$ only"
        shapes = " Under each factor: its shape (numerator layout)." if lecture.shapes else ""
        return rf"${theta}$ reaches $L_t$ through {through}.{shapes}"
    if prefix == "expanded_":
        count = lecture.T * (lecture.T + 1) // 2 if recurrent else lecture.T
        formula = r"T(T+1)/2" if recurrent else "T"
        order = r" One line per $t$; the Jacobians stand in chain order, the latest step on the left." if recurrent else ""
        if count > MAX_WRITTEN_TERMS:
            order = r" Too many to write out here; the $T = 3$ case of the lecture has six."
        return rf"For $T = {lecture.T}$ the sum has ${formula} = {count}$ terms.{order}"
    if prefix == "element_":
        return (r"Multiplying the row $(\partial L_t/\partial s_t)(\partial s_t/\partial s_k)$ into the tensor sums "
                r"over its first index $p$; the Kronecker delta keeps only $p = q$.")  # fmt: skip
    if prefix == "vectorised_" and recurrent:
        return (r"Exchanging the two sums collects, for each $k$, every path from $s_k$ to the loss into the "
                rf"back-propagated error ${error} = \nabla_{{s_k}} L$ (a column, $d\times 1$; not the Kronecker delta $\delta_{{pq}}$).")  # fmt: skip
    if prefix == "vectorised_":
        what = "the outer products $(y_t - e_t)\\,s_t^{\\top}$" if theta == "V" else "the rows $(y_t - e_t)^{\\top}$"
        return rf"${theta}$ acts at each step once: the sum over $t$ of {what}."
    if prefix == "truncated_":
        return (rf"Keeping only the last $\tau$ terms of the sum over $k$ drops the paths through the far past; "
                rf"this document keeps $\tau = {lecture.tau}$ of at most $T = {lecture.T}$.")  # fmt: skip
    if prefix == "loss_":
        return rf"${theta}$ enters only $o_t = V s_t + c$: no recurrence."
    return ""


def _delta(step):
    from symbptt.terms import Delta

    return Delta(step)


def after(item, lecture: Lecture) -> str:
    """A remark that follows a chain (notes and slides alike), or ""."""
    theta = _parameter_of(item.name)
    if item.name.startswith("explicit_s_"):
        cells = {"W": (r"d^2", r"d^3"), "U": (r"dn", r"d^2 n"), "b": (r"d", r"d^2")}[theta]
        model = lecture.model
        if model.d.is_Integer and (theta != "U" or model.n.is_Integer):
            d, n = int(model.d), int(model.n) if model.n.is_Integer else 0
            counts = {"W": (d * d, d**3), "U": (d * n, d * d * n), "b": (d, d * d)}[theta]
            return (rf"Non-zero only when $p = q$: at most ${counts[0]}$ of the ${counts[1]}$ entries are non-zero "
                    rf"(${cells[0]}$ of ${cells[1]}$ for $d = {d}$; density $1/d$).")  # fmt: skip
        return rf"Non-zero only when $p = q$: at most ${cells[0]}$ of the ${cells[1]}$ entries are non-zero (density $1/d$)."
    if item.name in ("vectorised_b", "vectorised_c"):
        return (rf"A row: in numerator layout a scalar by a vector is $1\times$ its length. A gradient step uses its "
                rf"transpose, ${theta} \leftarrow {theta} - \eta\, (\partial L/\partial {theta})^{{\top}}$; "
                r"$\partial L/\partial W$ has the shape of $W$ and needs none.")  # fmt: skip
    if item.name.startswith("element_"):
        what = {"W": r"s_{k-1}^{\top}", "U": r"x_k^{\top}", "b": ""}[theta]
        if not what:
            return r"Each term is a $1\times d$ row: the row $\partial L_t/\partial s_k$ times the diagonal matrix $\operatorname{diag}(\sigma'(a_k))$, entry by entry."
        return rf"Each term is a rank-1 matrix: a column (indexed by $q$) times the row ${what}$ (indexed by $r$)."
    return ""


# --- shared pieces -----------------------------------------------------------------------------


def model_equations(lecture: Lecture, environment: str = "align*") -> str:
    """a_k = W s_{k-1} + U x_k + b, s_k = σ(a_k), o_k = V s_k + c, y_k = softmax(o_k), L."""
    from symbptt.terms import Add, Apply, Param, Product, Softmax, Vec

    printer = lecture.printer
    activation = lecture.model.activation.name
    rows = [
        (Vec("a", k), Add((Product((Param("W"), Vec("s", k - 1))), Product((Param("U"), Vec("x", k))), Param("b")))),
        (Vec("s", k), Apply(Vec("a", k), prime=False, activation=activation)),
        (Vec("o", k), Add((Product((Param("V"), Vec("s", k))), Param("c")))),
        (Vec("y", k), Softmax(Vec("o", k))),
    ]
    printed = [(printer.doprint(lhs), printer.doprint(rhs)) for lhs, rhs in rows]
    first = rf"{printed[0][0]} &= {printed[0][1]}, & {printed[1][0]} &= {printed[1][1]}"
    second = rf"{printed[2][0]} &= {printed[2][1]}, & {printed[3][0]} &= {printed[3][1]}"
    loss = r"L &= \sum_{t=1}^{T} L_t, & L_t &= -\log y_{t\ell_t}"
    body = " \\\\\n".join((first, second, loss))
    return f"\\begin{{{environment}}}\n{body}\n\\end{{{environment}}}"


def activation_line(lecture: Lecture) -> str:
    model = lecture.model
    if model.activation.name == "sigmoid":
        return r"$\sigma(x) = 1/(1+e^{-x})$, the logistic function, applied entry by entry; $\sigma' = \sigma(1-\sigma) \le 1/4$."
    return r"$\tanh$ applied entry by entry; $\tanh' = 1 - \tanh^2 \le 1$."


def quantities_table(lecture: Lecture) -> str:
    """The shapes of the model's quantities (column convention)."""
    model = lecture.model
    rows = [
        (r"$x_k$", model.shape("x"), "input"),
        (r"$s_k$, $a_k$, $b$", model.shape("s"), "state, pre-activation, bias"),
        (r"$o_k$, $y_k$, $c$", model.shape("o"), f"output, class probabilities, bias (${lecture.printer.doprint(model.k)}$ classes)"),
        (r"$W$", model.shape("W"), "recurrent weight"),
        (r"$U$", model.shape("U"), "input weight"),
        (r"$V$", model.shape("V"), "output weight"),
    ]
    body = " \\\\\n".join(f"{name} & ${shape.latex()}$ & {meaning}" for name, shape, meaning in rows)
    return "\\begin{tabular}{lll}\n\\toprule\nquantity & shape & meaning \\\\\n\\midrule\n" + body + " \\\\\n\\bottomrule\n\\end{tabular}"


def transposes_note(lecture: Lecture) -> str:
    """The lecture's slides list U and V transposed: say so where the shapes are given."""
    K = lecture.printer.doprint(lecture.model.k)
    return (rf"$K$ is the number of classes. The lecture's slides list $U$ as $n\times d$ and $V$ as $d\times {K}$, "
            rf"the transposes of the shapes here; they use them as $U x_k$ and $V s_k$, which need $U$ to be "
            rf"$d\times n$ and $V$ to be ${K}\times d$.")  # fmt: skip


def notation_items(lecture: Lecture) -> list[str]:
    error = lecture.printer.doprint(_delta(k))
    return [
        r"Column vectors; time steps $k = 1, \dots, T$; every index counts from 1.",
        r"$s_{kp}$ is entry $p$ of $s_k$; a comma separates a compound index: $s_{k-1,r}$.",
        r"Numerator layout: a scalar by a vector is a row ($1\times d$), a vector by a vector a $d\times d$ Jacobian, "
        r"a vector by a matrix a $d\times d\times d$ tensor, a scalar by a matrix has the matrix's shape.",
        r"$\partial^{+}$ is the explicit derivative: $s_{k-1}$ is held fixed.",
        rf"$\delta_{{pq}}$ is the Kronecker delta; ${error}$ is the back-propagated error $\nabla_{{s_k}} L$.",
    ]


def shape_table(lecture: Lecture, theta: str, overlays: bool = False) -> str:
    """The lecture's question and answer: the shape of ∂L_t/∂θ and of each of its factors.

    With ``overlays`` (slides) the answer comes row by row, the product last."""
    from symbptt.bptt import BPTT

    bptt = BPTT(lecture.model, theta)
    printer = LecturePrinter(lecture.settings)
    table = dict(bptt.shape_table())
    terms = bptt.shape_terms()

    def row(number: int, quantity: str, shape: str) -> str:
        if overlays:  # the question stands from the start; each answer comes on its own overlay
            return rf"{quantity} & \uncover<{number + 2}->{{{shape}}}"
        return f"{quantity} & {shape}"

    def quantity(term) -> str:
        text = printer.doprint(term)
        # On a slide, ∂L_t/∂W on one line: a column of stacked fractions is too tall for a frame.
        return f"${inline_fractions(text, chr(92) + 'frac')}$" if overlays else rf"$\displaystyle {text}$"

    rows = [row(number, quantity(term), f"${table[label].latex()}$") for number, (label, term) in enumerate(terms)]
    factors = "".join(rf"({table[label].latex()})" for label, _ in terms[1:])
    product = row(len(terms), "product of the factors", f"${factors} = {table['product of the factors'].latex()}$")
    body = " \\\\\n".join(rows)
    # Display-style fractions need taller rows than text: a local \arraystretch.
    stretch = "1.5" if overlays else "2.3"  # display fractions need taller rows than slashed ones
    return ("{\\renewcommand{\\arraystretch}{" + stretch + "}\\begin{tabular}{ll}\n\\toprule\nquantity & shape \\\\\n\\midrule\n" + body
            + " \\\\\n\\midrule\n" + product + " \\\\\n\\bottomrule\n\\end{tabular}}")  # fmt: skip


def delta_recurrence(lecture: Lecture, environment: str = "align*") -> str:
    """δ_T = Vᵀ(y_T − e_T), δ_k = Vᵀ(y_k − e_k) + Wᵀ(δ_{k+1} ⊙ σ'(a_{k+1})), k = T−1, …, 1."""
    from symbptt.bptt import BPTT

    rule = BPTT(lecture.model, "W").delta_rule()
    printer = lecture.printer
    last = rf"{printer.doprint(_delta(T_step))} &= {printer.doprint(rule.last)}"
    step = rf"{printer.doprint(_delta(k))} &= {printer.doprint(rule.rule)}, \qquad k = T-1, \dots, 1"
    return f"\\begin{{{environment}}}\n{last} \\\\\n{step}\n\\end{{{environment}}}"


def chain_settings(item, lecture: Lecture) -> dict:
    """Shapes under the factors of the matrix-level chains (not of the long expansions)."""
    shows = lecture.shapes and item.name.split("_")[0] in ("bptt", "vectorised")
    return {**lecture.settings, "show_shapes": shows, "dims": lecture.model.dims() if shows else None}


def line_groups(item, lecture: Lecture) -> list[int] | None:
    """The expansion of the BPTT sum, one line per t: t terms on line t (one for V and c)."""
    theta = _parameter_of(item.name)
    if not item.name.startswith("expanded_") or theta is None:
        return None
    recurrent = theta in ("W", "U", "b")
    return [step if recurrent else 1 for step in range(1, lecture.T + 1)]


def lecture_chain(item, lecture: Lecture, layout: Layout):
    settings = chain_settings(item, lecture)
    return chain(item, replace(layout, settings=settings), line_groups(item, lecture))


def figure_for(lecture: Lecture, width_cm: float):
    if "W" not in lecture.parameters:
        return None
    return tensor_figure(lecture.model, lecture.drawn_d, "W", width_cm=width_cm, settings=lecture.settings)


def _topic_extra(item, lecture: Lecture, slides: bool = False):
    """The plot (Jacobian chain) or the table (truncated BPTT) that a topic adds after its chain,
    computed for this document: its T, its d (or the d the caption names), its τ."""
    from symbptt.latex import plots

    activation = lecture.model.activation.name
    if item.name == "jacobian_chain":
        size = {"width": r"0.72\linewidth", "height": "4.4cm"} if slides else {}
        return plots.decay_plot(activation, steps=max(lecture.T, 2), d=lecture.numeric_d, **size)
    if item.name.startswith("truncated_"):
        return plots.truncation_table(activation, _parameter_of(item.name), steps=lecture.T, d=lecture.numeric_d,
                                      tau=lecture.tau)  # fmt: skip
    return None


def _captioned(body: str, caption: str, kind: str = "figure") -> str:
    """A picture or table with a numbered caption, set where it stands (no float: it cannot land
    inside a chain or on a page of its own)."""
    return "\n".join([r"\begin{center}", r"\begin{minipage}{\linewidth}", r"\centering",
                      body if kind == "figure" else rf"\tablecaption{{{caption}}}" + "\n" + body,
                      rf"\figurecaption{{{caption}}}" if kind == "figure" else "", r"\end{minipage}",
                      r"\end{center}"])  # fmt: skip


# Numbered captions for pictures and tables that stay where they are written.
CAPTION_MACROS = r"""\makeatletter
\newcommand{\figurecaption}[1]{\def\@captype{figure}\caption{#1}}
\newcommand{\tablecaption}[1]{\def\@captype{table}\caption{#1}}
\makeatother"""


def _needs_pgfplots(lecture: Lecture) -> bool:
    return any(item.name == "jacobian_chain" for item in lecture.derivations)


def _preamble_packages(lecture: Lecture) -> str:
    lines = [rf"\usepackage{{{','.join(PACKAGES)}}}"]
    if _needs_pgfplots(lecture):
        lines.append(r"\usepackage{pgfplots}\pgfplotsset{compat=1.16}")
    return "\n".join(lines)


def _header_comment(lecture: Lecture, style: str) -> str:
    return (f"% {style} generated by symbptt from the engine's derivations: {escape_comment(lecture.title)}\n"
            f"% d = {lecture.model.d}, n = {lecture.model.n}, K = {lecture.model.k} (classes), T = {lecture.T}, "
            f"activation {lecture.model.activation.name}\n")  # fmt: skip


def _title_block(lecture: Lecture) -> str:
    date = escape_text(lecture.date, "date") if lecture.date else r"\today"
    return (rf"\title{{{escape_text(lecture.title, 'title')}}}" + "\n"
            + rf"\author{{{escape_text(lecture.author, 'author')}}}" + "\n" + rf"\date{{{date}}}")  # fmt: skip


def _parameter_title(theta: str) -> str:
    return rf"The gradient by ${theta}$"


# --- notes -------------------------------------------------------------------------------------


def _notes_preamble(lecture: Lecture) -> list[str]:
    return [
        _header_comment(lecture, "Lecture notes"),
        r"\documentclass[11pt,a4paper]{article}",
        r"\usepackage[margin=2.5cm]{geometry}",
        _preamble_packages(lecture),
        r"\allowdisplaybreaks",
        r"\renewcommand{\labelitemi}{$\bullet$}  % the math bullet: Type 1 everywhere, no bitmap font",
        r"\setlength{\parindent}{0pt}\setlength{\parskip}{0.6ex plus 0.2ex}",
        CAPTION_MACROS,
        TIKZ_STYLES_NOTES,
        _title_block(lecture),
        r"\begin{document}",
        r"\maketitle",
    ]


def _story_notes(lecture: Lecture) -> str:
    """The concise notes: the lecture's story, a section per part, a subsection per page."""
    from symbptt.latex.story import Mode, Story

    out = _notes_preamble(lecture)
    section = None
    for page in Story(lecture, Mode(slides=False, layout=NOTES_LAYOUT)).pages():
        if page.section != section:
            section = page.section
            out += ["", rf"\section{{{_section_title(section)}}}"]
        out += ["", rf"\subsection{{{page.title}}}", *page.body]
    out += ["", r"\end{document}", ""]
    return "\n".join(out)


def _section_title(section: str) -> str:
    """Parameter names in a section title are mathematics."""
    return _SECTION_TITLES.get(section, section)


_SECTION_TITLES = {"The gradient by W": r"The gradient by $W$", "U, b, V and c": r"$U$, $b$, $V$ and $c$",
                   "What we already know": "What we already know: the local derivatives"}


def _story_slides(lecture: Lecture) -> str:
    """The concise deck: the lecture's story, a frame per page."""
    from symbptt.latex.story import Mode, Story

    out = _slides_preamble(lecture)
    for page in Story(lecture, Mode(slides=True, layout=SLIDES_LAYOUT)).pages():
        out.append(_frame(page.title, list(page.body)))
    out += [r"\end{document}", ""]
    return "\n".join(out)


def notes(lecture: Lecture) -> str:
    """Lecture notes: the lecture's story (concise), or an article with a section per parameter (full)."""
    if lecture.tells_story:
        return _story_notes(lecture)
    from symbptt.latex.story import Mode, Story

    layout = NOTES_LAYOUT
    story = Story(lecture, Mode(slides=False, layout=layout))
    recurrent = [theta for theta in lecture.parameters if theta in ("W", "U", "b")]
    out = [
        *_notes_preamble(lecture),
        "",
        r"\section{The network and its notation}",
        model_equations(lecture),
        activation_line(lecture),
        "",
        r"\begin{center}",
        quantities_table(lecture),
        r"\end{center}",
        transposes_note(lecture),
        "",
        r"\begin{itemize}",
        *(rf"\item {item}" for item in notation_items(lecture)),
        r"\end{itemize}",
    ]
    shared = lecture.shared()
    if shared:
        out += ["", r"\section{Local derivatives}"]
        for item in shared:
            out += _notes_block(item, lecture, layout)
    for theta in lecture.parameters:
        out += ["", rf"\section{{{_parameter_title(theta)}}}"]
        for item in lecture.of_parameter(theta):
            out += _notes_block(item, lecture, layout)
            if item.name.startswith("explicit_s_W"):
                figure = figure_for(lecture, 15.5)
                if figure is not None:
                    out.append(_captioned(figure.tikz, figure.caption))
            if item.name.startswith("bptt_"):
                out += [r"The lecture asks for the shape of each factor; the answer, in numerator layout:", r"\begin{center}",
                        shape_table(lecture, theta), r"\end{center}"]  # fmt: skip
            if item.name.startswith("vectorised_") and recurrent and theta == recurrent[0]:
                page = story.delta_recurrence()  # derived once; U and b use the same errors
                out += ["", rf"\subsection{{{page.title}}}", *page.body]
    summary = story.summary()
    out += ["", r"\section{Summary}", *summary.body, "", r"\end{document}", ""]
    return "\n".join(out)


def _written_out(item, lecture: Lecture) -> bool:
    """False for an expansion of the BPTT sum too long to read: its introduction counts the terms."""
    theta = _parameter_of(item.name)
    if not item.name.startswith("expanded_") or theta is None:
        return True
    count = lecture.T * (lecture.T + 1) // 2 if theta in ("W", "U", "b") else lecture.T
    return count <= MAX_WRITTEN_TERMS


def _notes_block(item, lecture: Lecture, layout: Layout) -> list[str]:
    block = ["", rf"\subsection{{{heading(item, lecture)}}}"]
    intro = introduction(item, lecture)
    if intro:
        block.append(intro)
    if not _written_out(item, lecture):
        return block
    built = lecture_chain(item, lecture, layout)
    block.append(render(built.rows, built.rule_size))
    remark = after(item, lecture)
    if remark:
        block.append(remark)
    extra = _topic_extra(item, lecture)
    if extra is not None:
        block.append(_captioned(extra.body, extra.caption, "table" if "tabular" in extra.body else "figure"))
    return block


# --- slides ------------------------------------------------------------------------------------


def _slides_preamble(lecture: Lecture) -> list[str]:
    return [
        _header_comment(lecture, "Beamer slides"),
        *DECK_CLASS,
        _preamble_packages(lecture),
        TIKZ_STYLES_SLIDES,
        _title_block(lecture),
        r"\begin{document}",
        r"\begin{frame}",
        r"\titlepage",
        r"\end{frame}",
    ]


def slides(lecture: Lecture) -> str:
    """Beamer slides: the lecture's story (concise), or one idea per frame for every derivation (full)."""
    if lecture.tells_story:
        return _story_slides(lecture)
    from symbptt.latex.story import Mode, Story

    layout = SLIDES_LAYOUT
    story = Story(lecture, Mode(slides=True, layout=layout))
    recurrent = [theta for theta in lecture.parameters if theta in ("W", "U", "b")]
    out = [
        *_slides_preamble(lecture),
        _frame("The network", [model_equations(lecture), r"\vspace{-1ex}", activation_line(lecture)]),
        _frame("Shapes of the quantities", [r"\begin{center}", quantities_table(lecture), r"\end{center}",
                                            transposes_note(lecture)]),  # fmt: skip
        _frame("Notation", [r"\begin{itemize}", *(rf"\item {item}" for item in notation_items(lecture)), r"\end{itemize}"]),
    ]
    for item in lecture.shared():
        out += _slide_frames(item, lecture, layout)
    for theta in lecture.parameters:
        out.append(_frame(_parameter_title(theta), [r"\centering\Large", rf"$\dfrac{{\partial L}}{{\partial {theta}}} = \displaystyle\sum_{{t=1}}^{{T}} \dfrac{{\partial L_t}}{{\partial {theta}}}$"], options="c"))  # fmt: skip
        for item in lecture.of_parameter(theta):
            if item.name.startswith("bptt_"):  # the question before the chain that answers it
                out.append(_frame(rf"What shape is each factor of $\partial L_t/\partial {theta}$?",
                                  [r"\centering", shape_table(lecture, theta, overlays=True)]))  # fmt: skip
            out += _slide_frames(item, lecture, layout)
            if item.name.startswith("explicit_s_W"):
                figure = figure_for(lecture, 13.5)
                if figure is not None:
                    out.append(_frame(r"The sparse tensor $\partial^{+} s_k/\partial W$", [
                        r"\centering", figure.tikz, r"\par\medskip", rf"{{\small {figure.caption}\par}}",
                    ]))  # fmt: skip
            if item.name.startswith("vectorised_") and recurrent and theta == recurrent[0]:
                page = story.delta_recurrence()  # derived once; U and b use the same errors
                out.append(_frame(page.title, list(page.body)))
    summary = story.summary()
    out += [_frame(summary.title, list(summary.body)), r"\end{document}", ""]
    return "\n".join(out)


def _frame(title: str, body: list[str], options: str = "t") -> str:
    return "\n".join([rf"\begin{{frame}}[{options}]{{{title}}}", *body, r"\end{frame}"])


def _slide_frames(item, lecture: Lecture, layout: Layout) -> list[str]:
    if not _written_out(item, lecture):
        return []
    built = lecture_chain(item, lecture, layout)
    frames = split_frames(built, SLIDE_HEIGHT - (REMARK_HEIGHT if after(item, lecture) else 0.0))
    title = heading(item, lecture)
    out = []
    for number, rows in enumerate(frames):
        suffix = "" if len(frames) == 1 else rf" \quad{{\normalsize({number + 1}/{len(frames)})}}"
        body = [render(rows, built.rule_size, overlays=True)]
        remark = after(item, lecture)
        if number == len(frames) - 1 and remark:
            body.append(rf"\uncover<{len({row.step for row in rows})}->{{{remark}}}")
        out.append(_frame(title + suffix, body))
    extra = _topic_extra(item, lecture, slides=True)
    if extra is not None:  # the plot or the table of numbers: a frame of its own, its setup under it
        body = [r"\centering", extra.body, r"\par\smallskip", rf"{{\small\raggedright {extra.caption}\par}}"]
        if "tabular" in extra.body:  # a long table: its caption beside it
            body = [r"\begin{columns}[T]", r"\begin{column}{0.56\textwidth}", r"\centering\small", extra.body,
                    r"\end{column}", r"\begin{column}{0.42\textwidth}", rf"\small {extra.caption}", r"\end{column}",
                    r"\end{columns}"]  # fmt: skip
        out.append(_frame(title + r" \quad{\normalsize(the numbers)}", body))
    return out


# --- snippet -----------------------------------------------------------------------------------


def snippet(lecture: Lecture) -> str:
    """Only the environments, for ``\\input`` into an existing lecture (article or Beamer)."""
    layout = SNIPPET_LAYOUT
    out = [
        _header_comment(lecture, "Snippet"),
        f"% Needs: \\usepackage{{{','.join(PACKAGES)}}}" + (" and pgfplots" if _needs_pgfplots(lecture) else ""),
        "% Each block is one derivation, each line justified; \\input it where the lecture needs it.",
        "",
    ]
    for item in lecture.derivations:
        built = lecture_chain(item, lecture, layout)
        out += [f"% {escape_comment(item.title)}", render(built.rows, built.rule_size)]
        extra = _topic_extra(item, lecture)
        if extra is not None:
            out += [r"\begin{center}", extra.body, r"\end{center}", rf"{{\small {extra.caption}\par}}"]
        theta = _parameter_of(item.name)
        if item.name == "explicit_s_W":
            figure = figure_for(lecture, 12.0)
            if figure is not None:
                out += ["% The sparse tensor", r"\begin{figure}[htbp]", r"\centering", figure.tikz,
                        rf"\caption{{{figure.caption}}}", r"\end{figure}"]  # fmt: skip
        if item.name.startswith("bptt_"):
            out += [f"% The shapes of the factors of dL_t/d{theta}", r"\begin{center}", shape_table(lecture, theta), r"\end{center}"]
        if item.name.startswith("vectorised_") and theta in ("W", "U", "b"):
            out += ["% The back-propagated error", delta_recurrence(lecture)]
        out.append("")
    return "\n".join(out)


BUILDERS = {"notes": notes, "slides": slides, "snippet": snippet}


def build(style: str, lecture: Lecture) -> str:
    """The document of ``style`` (notes, slides or snippet) as LaTeX source."""
    try:
        builder = BUILDERS[style]
    except KeyError:
        raise SymbpttError(f"unknown style {style!r} (choose from {', '.join(STYLES)})", "style") from None
    return builder(lecture)


def standalone(snippet_source: str, lecture: Lecture) -> str:
    """A snippet wrapped in a minimal article: how the tests and ``--pdf`` compile a snippet."""
    return "\n".join([r"\documentclass[10pt]{article}", _preamble_packages(lecture), r"\begin{document}",
                      snippet_source, r"\end{document}", ""])  # fmt: skip

