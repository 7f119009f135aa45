"""Verdicts as text for a terminal, or as JSON: one record per step.

Text names each step by ``file:line`` and number, gives the verdict and how it
was reached, and for a wrong step the counterexample: the sizes, T, the step and
entry values, the random network's seed, and both sides' numbers (a matrix
whole when small, and always the entry where the sides differ most). JSON adds
both sides as written and re-printed in the lecture's LaTeX
(:func:`symbptt.latex.printer.to_latex`).
"""

from __future__ import annotations

import json

import numpy as np

from symbptt.verify.check import CORRECT, WRONG, Counterexample, Report, StepResult

MAX_SHOWN_ENTRIES = 25
MAX_FORMULA_CHARS = 160


def _number(x: float) -> str:
    if not np.isfinite(x):
        return str(x)
    text = f"{x:.6g}"
    return "0" if text in ("-0", "0") else text


def _array_text(value: np.ndarray) -> str:
    value = np.asarray(value, dtype=float)
    if value.ndim == 0:
        return _number(float(value))
    if value.size > MAX_SHOWN_ENTRIES:
        return f"a {'×'.join(map(str, value.shape))} array"
    if value.ndim == 1:
        return "[" + ", ".join(_number(v) for v in value) + "]"
    return "[" + ", ".join(_array_text(row) for row in value) + "]"


def _point_text(counterexample: Counterexample) -> str:
    point = counterexample.point
    sizes = point.sizes
    parts = [f"d = {sizes.d}, n = {sizes.n}, K = {sizes.K} classes", f"T = {point.T}"]
    if point.steps:
        parts.append("steps " + ", ".join(f"{name} = {value}" for name, value in point.steps))
    if point.entries:
        parts.append("entries " + ", ".join(f"{name} = {value}" for name, value in point.entries))
    start = "s_0" if point.activation in ("sigmoid", "tanh", "identity") else "start states"  # a cell: h_0, c_0
    s0 = f"{start} = 0" if point.s0_zero else f"{start} random"
    parts.append(f"random network {point.seed} of --seed {point.search_seed} ({point.activation}, {s0})")
    return "; ".join(parts)


def _shape_of(value: np.ndarray) -> str:
    return "1×1" if value.ndim == 0 else "×".join(map(str, value.shape))


def counterexample_lines(counterexample: Counterexample) -> list[str]:
    if counterexample.detail is not None:
        return [f"counterexample: {counterexample.detail}"]
    if counterexample.shapes is not None and counterexample.point is None:
        if counterexample.shapes_of == "sides":
            left, right = counterexample.shapes
            return [f"counterexample: the left side is {left}, the right side {right}"]
        return [f"counterexample: the factors' shapes {' and '.join(counterexample.shapes)} do not fit"]
    lines = [f"counterexample: {_point_text(counterexample)}"]
    if counterexample.left is not None:
        lines.append(f"  left side  ({_shape_of(counterexample.left)}) = {_array_text(counterexample.left)}")
        lines.append(f"  right side ({_shape_of(counterexample.right)}) = {_array_text(counterexample.right)}")
        if counterexample.where:
            entry = ", ".join(str(i + 1) for i in counterexample.where)
            a, b = np.broadcast_arrays(counterexample.left, counterexample.right)
            lines.append(f"  largest difference at entry ({entry}): {_number(a[counterexample.where])} "
                         f"vs {_number(b[counterexample.where])}")  # fmt: skip
    return lines


def _formula(step: StepResult) -> str:
    if step.lhs is None:
        return "(not read)"
    text = f"{step.lhs_text} = {step.rhs_text}"
    return text if len(text) <= MAX_FORMULA_CHARS else text[: MAX_FORMULA_CHARS - 1] + "…"


def _verdict_line(step: StepResult) -> str:
    verdict = step.verdict
    how = verdict.method
    if verdict.status == CORRECT:
        detail = f" ({how}: {verdict.reason})"
    else:
        detail = f" ({how}): {verdict.reason}"
    return f"step {step.number}: {verdict.status}{detail}"


def to_text(report: Report) -> str:
    out: list[str] = []
    for chain in report.chains:
        where = chain.source
        if chain.environment:
            span = f"{chain.line}" if chain.line == chain.end_line else f"{chain.line}–{chain.end_line}"
            out.append(f"{where}:{span} ({chain.environment}): {len(chain.steps)} step{'s' * (len(chain.steps) != 1)}")
        for step in chain.steps:
            prefix = f"{where}:{step.line}: " if chain.environment and step.line else ""
            out.append(f"  {prefix}{_verdict_line(step)}")
            out.append(f"      {_formula(step)}")
            verdict = step.verdict
            for note in verdict.notes:
                out.append(f"      note: {note}")
            if verdict.counterexample is not None:
                out.extend(f"      {line}" for line in counterexample_lines(verdict.counterexample))
        first = chain.first_wrong
        if first is not None and len(chain.steps) > 1:
            line = f", line {first.line}" if chain.environment and first.line else ""
            out.append(f"  first wrong step: step {first.number}{line}")
    total = len(report.steps)
    if not total:
        out.append("nothing to check: no equation or align environment with '=' was found")
    out.append(
        f"summary: {total} step{'s' * (total != 1)}: {report.count(CORRECT)} correct, "
        f"{report.count(WRONG)} wrong, {report.count('undecided')} undecided"
    )
    return "\n".join(out) + "\n"


def _json_value(value):
    if value is None:
        return None
    array = np.asarray(value, dtype=float)
    cleaned = np.where(np.isfinite(array), array, np.nan)
    listed = cleaned.tolist()

    def finite(x):
        if isinstance(x, list):
            return [finite(item) for item in x]
        return None if x != x else x  # NaN is not JSON

    return finite(listed)


def _counterexample_record(counterexample: Counterexample | None) -> dict | None:
    if counterexample is None:
        return None
    record: dict = {}
    if counterexample.detail is not None:
        record["detail"] = counterexample.detail
    if counterexample.shapes is not None:
        record["shapes"] = list(counterexample.shapes)
        record["shapes_of"] = counterexample.shapes_of
    point = counterexample.point
    if point is not None:
        record.update({
            "sizes": {"d": point.sizes.d, "n": point.sizes.n, "k": point.sizes.K},
            "T": point.T,
            "steps": dict(point.steps),
            "entries": dict(point.entries),
            "seed": point.search_seed,
            "network": point.seed,
            "activation": point.activation,
            "s0": "zeros" if point.s0_zero else "random",
        })  # fmt: skip
    if counterexample.left is not None:
        record["left"] = _json_value(counterexample.left)
        record["right"] = _json_value(counterexample.right)
        record["largest_difference_at"] = [i + 1 for i in counterexample.where] if counterexample.where else None
    return record


def _side(text: str, node, step: StepResult, which: str, activation: str) -> dict:
    from symbptt.reports.reprint import to_latex  # SymPy and the printer: only for --json

    latex = None
    # the re-print knows the lecture's names only; a cell's claim (an LSTM's) is given as written
    if step.meaning is not None and step.meaning.symbols.lecture:
        try:
            latex = to_latex(getattr(step.meaning, which), activation)
        except (RecursionError, ValueError, TypeError, AttributeError):
            latex = None  # the re-print is a courtesy: never a traceback instead of the verdict
    return {"source": text, "latex": latex}


def to_json(report: Report, activation: str | None = "sigmoid", s0_zero: bool = False, model: str = "rnn") -> str:
    """The report as JSON; ``activation`` is None for a cell, whose equations name their functions."""
    records = []
    for chain_number, chain in enumerate(report.chains, start=1):
        for step in chain.steps:
            verdict = step.verdict
            records.append({
                "source": chain.source,
                "chain": chain_number,
                "environment": chain.environment,
                "step": step.number,
                "line": step.line,
                "column": step.column,
                "lhs": _side(step.lhs_text, step.lhs, step, "lhs", activation),
                "rhs": _side(step.rhs_text, step.rhs, step, "rhs", activation),
                "verdict": verdict.status,
                "method": verdict.method,
                "reason": verdict.reason,
                "notes": list(verdict.notes),
                "points": verdict.points,
                "counterexample": _counterexample_record(verdict.counterexample),
            })  # fmt: skip
    chains = [
        {"chain": number, "environment": chain.environment, "line": chain.line, "end_line": chain.end_line,
         "first_wrong_step": chain.first_wrong.number if chain.first_wrong else None}
        for number, chain in enumerate(report.chains, start=1)
    ]  # fmt: skip
    document = {
        "source": report.source,
        "model": {"name": model, "activation": activation, "s0": "zeros" if s0_zero else "random"},
        "steps": records,
        "chains": chains,
        "summary": {"steps": len(report.steps), "correct": report.count(CORRECT),
                    "wrong": report.count(WRONG), "undecided": report.count("undecided")},
        "exit_code": report.exit_code,
    }  # fmt: skip
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
