"""A derivation as the rows of an ``align*``: one ``=`` per step, each step justified.

The layout is decided here, before TeX runs, from estimated sizes
(:mod:`symbptt.latex.measure`):

- a right-hand side too long for the line is broken at the ``+`` of a sum (or,
  failing that, between the factors of a product); continuation rows start one
  ``\\quad`` to the right of the ``=``;
- the justification of a step is set flush right as a ``\\tag*``: amsmath then
  measures each row itself and, where a row leaves no room, puts the
  justification on its own line under it (exact, where an estimate could overflow);
- on slides, the rows are split into frames that fit the frame's height, and each
  step after the first of a frame is uncovered one overlay after the other.

In Markdown and Jupyter (KaTeX, MathJax: no tags inside ``aligned``) the
justifications stand in a second column instead.

Every piece of mathematics is printed by :class:`~symbptt.latex.printer.LecturePrinter`
from our own objects; this module only arranges the printed pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import sympy as sp

from symbptt import terms as terms_
from symbptt.latex.measure import math_width, row_height
from symbptt.latex.printer import LATEX_RELATIONS, LecturePrinter, lecture_order

CONTINUATION = r"\quad"
RULE_GAP = 1.5  # em between the mathematics and a justification beside it
RULE_ROW = 1.3  # em: a justification on a line of its own
RELATION_WIDTH = 1.4  # "=" with its spaces
SAFETY = 0.95  # estimates can be a few per cent short: keep that much in hand


@dataclass(frozen=True)
class Layout:
    """Where a chain is set: the line width in em of the display's font, and how the
    justifications look (their font size command and its scale)."""

    width: float = 40.0
    rule_size: str = r"\small"
    rule_scale: float = 0.92
    settings: dict = field(default_factory=dict)  # LecturePrinter settings (shapes, index style, …)


@dataclass(frozen=True)
class Row:
    """One row of the chain: ``relation`` is "=" (or ≤, ≈) on a step's first row and ""
    on a continuation; ``rule`` is the step's justification, on its first row."""

    step: int
    left: str = ""
    relation: str = ""
    body: str = ""
    rule: str = ""
    height: float = 1.5  # em, with the justification's own line when it will not fit beside


@dataclass(frozen=True)
class Chain:
    lhs: str
    rows: tuple[Row, ...]
    rule_size: str


def pieces(expr, printer: LecturePrinter) -> list[str]:
    """The printed terms of a sum, each after the first with its sign; else the whole, once."""
    if isinstance(expr, sp.Add):
        terms = lecture_order(expr)
    elif isinstance(expr, terms_.Add):
        terms = list(expr.terms)
    else:
        return [printer.doprint(expr)]
    out = []
    for number, term in enumerate(terms):
        text = printer.doprint(term)
        if number == 0:
            out.append(text)
        elif text.startswith("-"):
            out.append(f"- {text[1:]}")
        else:
            out.append(f"+ {text}")
    return out


def factor_pieces(expr, printer: LecturePrinter) -> list[str] | None:
    """The printed factors of a matrix-level product, for breaking a product that has no sum."""
    if not isinstance(expr, terms_.Product) or len(expr.factors) < 3:
        return None
    last = expr.factors[-1]
    return [printer.product_factor(factor, factor is last) for factor in expr.factors]


def chain(derivation, layout: Layout, groups: list[int] | None = None) -> Chain:
    """The rows of ``derivation`` laid out for ``layout``.

    ``groups`` asks for line breaks in the right-hand side of the *last* step after
    that many terms each (the expansion of the BPTT sum: one line per t).
    """
    printer = LecturePrinter(layout.settings)
    lhs = printer.doprint(derivation.lhs)
    if printer.shows_shapes and hasattr(derivation.lhs, "shape"):
        lhs = printer.with_shape(lhs, derivation.lhs)
    budget = layout.width * SAFETY
    lhs_width = math_width(lhs)
    body_budget = budget - lhs_width - RELATION_WIDTH
    rows: list[Row] = []
    for number, step in enumerate(derivation.steps):
        relation = LATEX_RELATIONS.get(step.relation, step.relation)
        wanted = groups if (groups and number == len(derivation.steps) - 1) else None
        rule = inline_fractions(step.rule.latex)
        rule_width = layout.rule_scale * math_width(rule, display=False)
        for line_number, body in enumerate(_break(step.rhs, printer, body_budget, wanted)):
            height = row_height(body)
            first = line_number == 0
            if first and lhs_width + RELATION_WIDTH + math_width(body) + RULE_GAP + rule_width > budget:
                height += RULE_ROW  # amsmath will set the justification on a line of its own
            rows.append(Row(step=number, left=lhs if (number == 0 and first) else "",
                            relation=relation if first else "", body=body, rule=rule if first else "", height=height))  # fmt: skip
    return Chain(lhs=lhs, rows=tuple(rows), rule_size=layout.rule_size)


def _break(rhs, printer: LecturePrinter, budget: float, groups: list[int] | None) -> list[str]:
    """The right-hand side as lines that each fit ``budget`` em (the first after the ``=``)."""
    parts = pieces(rhs, printer)
    if len(parts) == 1:
        factors = factor_pieces(rhs, printer)
        if factors is None or math_width(parts[0]) <= budget:
            return parts
        return _fill(factors, budget, joiner=r"\, ")
    if groups and sum(groups) == len(parts):
        lines, start = [], 0
        for size in groups:
            lines.extend(_fill(parts[start:start + size], budget, first_continues=bool(lines)))
            start += size
        return lines
    return _fill(parts, budget)


def _fill(parts: list[str], budget: float, joiner: str = " ", first_continues: bool = False) -> list[str]:
    """Greedy filling: as many pieces on a line as fit."""
    continuation = math_width(CONTINUATION) + 0.2
    lines: list[str] = []
    current: list[str] = []
    for part in parts:
        trial = joiner.join([*current, part])
        room = budget - (continuation if (lines or first_continues) else 0.0)
        if current and math_width(trial) > room:
            lines.append(joiner.join(current))
            current = [part]
        else:
            current.append(part)
    if current:
        lines.append(joiner.join(current))
    return lines


def inline_fractions(latex: str, macro: str = r"\tfrac") -> str:
    """``\\tfrac{a}{b}`` as ``a/b``: a justification is read from the back of a room, and a
    text-style fraction sets its parts at script size (about 6 pt under ``\\small``)."""
    out, at = [], 0
    while True:
        found = latex.find(macro, at)
        if found < 0:
            out.append(latex[at:])
            return "".join(out)
        out.append(latex[at:found])
        top, after_top = _argument(latex, found + len(macro))
        bottom, at = _argument(latex, after_top)
        out.append(f"{_slash_part(top)}/{_slash_part(bottom)}")


def _argument(latex: str, at: int) -> tuple[str, int]:
    """The next argument of a macro (a braced group or one character) and where it ends."""
    while at < len(latex) and latex[at] == " ":
        at += 1
    if at >= len(latex) or latex[at] != "{":
        return latex[at:at + 1], at + 1
    depth = 0
    for end in range(at, len(latex)):
        depth += {"{": 1, "}": -1}.get(latex[end], 0)
        if depth == 0:
            return latex[at + 1:end], end + 1
    return latex[at + 1:], len(latex)


def _slash_part(part: str) -> str:
    """A sum or difference needs its parentheses once it stands beside a slash."""
    depth, signed = 0, False
    for char in part:
        depth += {"{": 1, "}": -1}.get(char, 0)
        signed = signed or (depth == 0 and char in "+-")
    return f"({part})" if signed else part


# --- writing the rows out ----------------------------------------------------------------


def render(rows, rule_size: str = r"\small", environment: str = "align*", overlays: bool = False,
           plain_rules: bool = False, first_overlay: int = 1) -> str:
    """The rows as an ``align*`` (or, with ``plain_rules``, an ``aligned`` for KaTeX and MathJax).

    ``overlays``: each step after the first row's is uncovered on a slide of its own.
    ``plain_rules``: justifications in a second column (``&&``), at the text's size.
    ``first_overlay``: the overlay of the first step (later when text above comes first).
    """
    first_step = rows[0].step
    lines: list[str] = []
    for row in rows:
        slide = row.step - first_step + first_overlay
        show = (lambda text, slide=slide: _uncover(text, slide)) if overlays else (lambda text: text)
        head = f"{{}}{row.relation} " if row.relation else rf"{{}}{CONTINUATION} "
        text = f"{row.left} &{show(head + row.body)}"
        rule = inline_fractions(row.rule)
        if rule and plain_rules:
            text += f" && {rule}"
        elif rule:
            text += rf" \tag*{{{show(f'{rule_size} ${rule}$')}}}"
        lines.append(text)
    body = " \\\\\n".join(lines)
    return f"\\begin{{{environment}}}\n{body}\n\\end{{{environment}}}"


def _uncover(text: str, slide: int) -> str:
    return text if slide <= 1 else rf"\uncover<{slide}->{{{text}}}"


# --- frames ---------------------------------------------------------------------------------


def split_frames(chain_: Chain, budget: float) -> list[list[Row]]:
    """The rows in frames of at most ``budget`` em of height, breaking between steps.

    A frame after the first starts with the result of the step before it (the line
    the audience last saw) as a recap, without its justification; a step taller than
    a frame (a long expansion) goes on with ``lhs = ⋯ + …``.
    """
    by_step: list[list[Row]] = []
    for row in chain_.rows:
        if not by_step or by_step[-1][0].step != row.step:
            by_step.append([])
        by_step[-1].append(row)
    frames: list[list[Row]] = [[]]
    used = 0.0
    for group in by_step:
        height = sum(row.height for row in group)
        # A step that fits no frame whole (a long expansion) starts where there is room.
        too_tall = height > budget - (sum(row.height for row in _recap(frames[-1], chain_.lhs)) if frames[-1] else 0.0)
        if frames[-1] and used + height > budget and not (too_tall and used + group[0].height <= budget):
            frames.append(_recap(frames[-1], chain_.lhs))
            used = sum(row.height for row in frames[-1])
        for row in group:
            if frames[-1] and not row.relation and used + row.height > budget:
                frames.append([])
                used = 0.0
            if not frames[-1] and not row.relation:
                row = replace(row, left=chain_.lhs, relation="=", body=r"\cdots " + row.body)
            frames[-1].append(row)
            used += row.height
    return [frame for frame in frames if frame]


def _recap(previous: list[Row], lhs: str) -> list[Row]:
    """The last step of ``previous`` again, with the left-hand side and without its justification."""
    last_step = previous[-1].step
    rows = [row for row in previous if row.step == last_step]
    if not rows[0].relation:  # the frame began in the middle of this step: recap its last line
        rows = rows[-1:]
    recap = [replace(row, left="", rule="", height=row.height - (RULE_ROW if row.height > row_height(row.body) else 0.0)) for row in rows]
    first = recap[0]
    body = first.body if first.relation else r"\cdots " + first.body
    recap[0] = replace(first, left=lhs, relation=first.relation or "=", body=body)
    return recap
