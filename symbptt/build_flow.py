"""``symbptt build`` for a spec with ``topic = "gradient-flow"``: why the LSTM's gradient does not vanish.

The spec's cell must be the LSTM that :mod:`symbptt.gradient_flow` measures (checked with the
engine's forward evaluator before anything is written); its claims are verified as any
spec's are (:func:`symbptt.build.verify_claim`); then the notes, slides and snippet
(.tex, and .pdf when TeX is there) and notes.md, whose plot and numbers are measured now,
at the spec's own sizes (d, n and K when the spec gives numbers, else those of
:data:`DEFAULT_SIZES`, said in the caption) and its own T.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from symbptt.build import ClaimResult, SpecResult, verify_claim, write_documents
from symbptt.errors import SymbpttError

DEFAULT_SIZES = {"d": 16, "n": 8, "k": 5}  # when the spec's d, n or K is a symbol
SEED = 0


def measured_sizes(dimensions: dict) -> dict:
    """d, n, K and T of the measurement: the spec's where they are numbers."""
    sizes = {key: value if isinstance(value, int) else DEFAULT_SIZES[key] for key, value in dimensions.items()
             if key in DEFAULT_SIZES}  # fmt: skip
    return {"d": sizes["d"], "n": sizes["n"], "K": sizes["k"], "T": int(dimensions.get("T", 3))}


def flow_lecture(spec):
    """The documents' content for ``spec``: its cell checked to be the measured LSTM, the norms measured
    at its sizes. Raises before anything is written."""
    from symbptt.cell.graph import build_graph
    from symbptt.gradient_flow import MAX_SIZE, check_lstm, gradient_flow
    from symbptt.latex.gradient_flow import FlowLecture

    if int(spec.dimensions.get("T", 3)) < 3:
        raise SymbpttError("the gradient-flow lecture compares at least two steps back: T must be 3 or more", "T")
    sizes = measured_sizes(spec.dimensions)
    if max(sizes["d"], sizes["n"], sizes["K"]) > MAX_SIZE or sizes["K"] < 2:
        raise SymbpttError(f"the gradient-flow plot measures networks with d and n from 1 to {MAX_SIZE} and K from 2 "
                           f"to {MAX_SIZE}, not d = {sizes['d']}, n = {sizes['n']}, K = {sizes['K']}",
                           spec.cell.key_lines.get("dimensions", "spec"))  # fmt: skip
    graph = build_graph(spec.cell, spec.dimensions)
    check_lstm(graph)
    symbolic = tuple({"k": "K"}.get(key, key) for key in DEFAULT_SIZES if not isinstance(spec.dimensions[key], int))
    measured = gradient_flow(**sizes, seed=SEED, symbolic=symbolic)
    return FlowLecture(graph=graph, measured=measured, title=spec.title, author=spec.author, date=spec.date)


def build_flow_spec(spec, out: Path, pdf: bool | None, progress: Callable[[str], None]) -> SpecResult:
    from symbptt.cell.jacobian import CellView, state_jacobian_derivations
    from symbptt.latex.gradient_flow import build, markdown, standalone

    result = SpecResult(spec.name)
    progress("measuring the gradient flow")
    lecture = flow_lecture(spec)
    for number, claim in enumerate(spec.claims, start=1):
        progress(f"verifying claim {number} of {len(spec.claims)}")
        result.claims.append(_verified(claim, spec))
    write_documents(spec.styles, out, pdf, progress, result, lambda style: build(style, lecture), standalone,
                    lambda: markdown(lecture))  # fmt: skip
    result.steps = sum(len(item.steps) for item in state_jacobian_derivations(CellView(lecture.graph)))
    if spec.export:
        result.notes.append("the gradient-flow topic writes no code: export the cell from a topic = \"bptt\" spec "
                            "(lstm-bptt)")  # fmt: skip
    return result


def _verified(claim, spec) -> ClaimResult:
    """The claim's verdict; a claim the verifier cannot read for this model is undecided, not a crash."""
    try:
        return verify_claim(claim, spec)
    except SymbpttError as error:
        return ClaimResult(claim.name, claim.expect, "undecided", f"{error.where}: {error.what}")
