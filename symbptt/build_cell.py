"""``symbptt build`` for a cell given by its equations: derive, write, export and check.

The same stages as for the lecture's RNN (:mod:`symbptt.build`), read from the step
graph: every derivation of the cell (``derive``), notes, slides and snippet (.tex, and
.pdf when TeX is there), the exported module per backend, and the check of every
exported module against the forward evaluator (central differences, and torch
autograd where torch is installed). The spec's claims (the lecture's hand steps, in the
cell's names) are verified as the lecture RNN's are, by :func:`symbptt.build.verify_claim`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from symbptt.build import (
    CHECK_SEED,
    CHECK_TRIALS,
    ClaimResult,
    ClaimsTime,
    SpecResult,
    _worse,
    write_documents,
)
from symbptt.files import write_atomic


def build_cell_spec(spec, out: Path, pdf: bool | None, progress: Callable[[str], None],
                    claims_time: ClaimsTime | None = None) -> SpecResult:
    from symbptt.cell.derive import derive_cell
    from symbptt.cell.graph import build_graph

    if spec.topic == "gradient-flow":  # the LSTM's gradient-flow lecture: its own documents, no export
        from symbptt.build_flow import build_flow_spec

        return build_flow_spec(spec, out, pdf, progress)
    result = SpecResult(spec.name)
    graph = build_graph(spec.cell, spec.dimensions)
    progress("deriving")
    derived = derive_cell(graph, tuple(name for name in spec.parameters if name in graph.parameter_nodes),
                          int(spec.dimensions.get("T", 3)))  # fmt: skip
    result.steps = sum(len(item.steps) for item in derived.all())
    result.claims = verify_claims(spec, progress, claims_time)
    _write_documents(spec, derived, out, pdf, progress, result)
    for backend in spec.export:
        progress(f"exporting {backend}")
        _export_and_check(spec, graph, backend, out, progress, result)
    return result


def verify_claims(spec, progress: Callable[[str], None], claims_time: ClaimsTime | None = None) -> list[ClaimResult]:
    """Each claim's verdict, while ``claims_time`` lasts; later ones are reported as not reached."""
    import time

    from symbptt.build import verify_claim

    results = []
    for number, claim in enumerate(spec.claims, start=1):
        left = None if claims_time is None else claims_time.left()
        if left is not None and left < 0.5:
            results.append(ClaimResult(claim.name, claim.expect, "undecided",
                                       f"not reached: the {claims_time.seconds:g} s for the claims of this build "
                                       "were spent"))  # fmt: skip
            continue
        progress(f"verifying claim {number} of {len(spec.claims)}")
        started = time.monotonic()
        results.append(verify_claim(claim, spec, left))
        if claims_time is not None:
            claims_time.used += time.monotonic() - started
    return results


def _write_documents(spec, derived, out: Path, pdf, progress, result: SpecResult) -> None:
    from symbptt.latex.cell_documents import CellLecture, build, markdown, standalone

    lecture = CellLecture(derived=derived, title=spec.title, author=spec.author, date=spec.date, detail=spec.detail)
    write_documents(spec.styles, out, pdf, progress, result, lambda style: build(style, lecture), standalone,
                    lambda: markdown(lecture))  # fmt: skip


def _export_and_check(spec, graph, backend: str, out: Path, progress, result: SpecResult) -> None:
    import importlib.util

    from symbptt.cell.check import run_cell_checks
    from symbptt.cell.export import ExportInfo, export_source

    source = export_source(graph, backend, ExportInfo(spec.name, spec.title))
    module_name = f"{spec.name.replace('-', '_')}_{backend}"
    result.files.append(write_atomic(out / f"{module_name}.py", source))
    library = {"jax": "jax", "torch": "torch"}.get(backend)
    if library is not None and importlib.util.find_spec(library) is None:
        result.notes.append(f"{backend} not installed: {module_name}.py written, not checked")
        return
    progress(f"checking {backend}")
    report = run_cell_checks(graph, (backend,), CHECK_TRIALS, CHECK_SEED, spec.name)
    for comparison in report.comparisons:
        if comparison.skipped:
            result.notes.append(f"{backend}: {comparison.skipped}")
            continue
        result.worst_differences = _worse(result.worst_differences, comparison.against_differences)
        if comparison.against_autograd is not None:
            result.worst_reference = _worse(result.worst_reference, comparison.against_autograd)
        elif result.worst_reference is None:
            result.worst_reference = comparison.against_differences
    result.check_ok = result.check_ok and report.ok
