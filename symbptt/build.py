"""``symbptt build``: every stage of the pipeline for one spec, into one folder.

For a spec: derive, verify its claims, write notes, slides and snippet (.tex, and
.pdf when TeX is there) and a Markdown version, export the numeric module(s), and
check the exported code against the independent reference. Each stage returns
what it found; :class:`SpecResult` gathers them for the summary table. Every file
goes through ``write_atomic``; the specs are all validated before anything is
written, so a bad spec leaves no trace.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from symbptt.errors import SymbpttError, TexError
from symbptt.files import write_atomic

CHECK_TRIALS = 8  # random problems per exported module (d, n, k from 1 to 5, batches, s0 = 0)
CHECK_SEED = 0
SUMMARY_WIDTH = 88  # the summary fits a terminal: no line longer, but for a single long path


@dataclass
class ClaimResult:
    name: str
    expect: str
    verdict: str  # correct | wrong | undecided: the worst verdict over the claim's steps
    detail: str

    @property
    def ok(self) -> bool:
        return self.verdict == self.expect


@dataclass
class SpecResult:
    name: str
    steps: int = 0
    claims: list[ClaimResult] = field(default_factory=list)
    worst_reference: float | None = None  # exported code against the reference BPTT (relative)
    worst_differences: float | None = None  # its gradients against central differences (relative)
    check_ok: bool = True
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.check_ok and all(claim.ok for claim in self.claims)


@dataclass
class ClaimsTime:
    """The seconds all claims of a run may take together, and those already taken."""

    seconds: float
    used: float = 0.0

    def left(self) -> float:
        return self.seconds - self.used


def build_spec(spec, out: Path, pdf: bool | None, progress: Callable[[str], None],
               claims_time: ClaimsTime | None = None) -> SpecResult:
    """Run every stage for ``spec`` into ``out``; ``pdf`` None means 'when TeX is installed'.
    Claims are checked while ``claims_time`` lasts; later ones are reported as not reached."""
    if spec.cell is not None:  # a cell given by its equations
        from symbptt.build_cell import build_cell_spec

        return build_cell_spec(spec, out, pdf, progress, claims_time)
    from symbptt.lecture import derivations_for
    from symbptt.model import RNN

    result = SpecResult(spec.name)
    dims = spec.dimensions
    model = RNN.create(d=dims["d"], n=dims["n"], k=dims["k"], activation_name=spec.activation, s0=spec.s0)
    progress("deriving")
    derivations = derivations_for(model, spec.parameters, dims["T"], spec.topic, spec.tau)
    result.steps = sum(len(item.steps) for item in derivations)
    for number, claim in enumerate(spec.claims, start=1):
        left = None if claims_time is None else claims_time.left()
        if left is not None and left < 0.5:
            result.claims.append(ClaimResult(claim.name, claim.expect, "undecided",
                                             f"not reached: the {claims_time.seconds:g} s for the claims of "
                                             "this build were spent"))  # fmt: skip
            continue
        progress(f"verifying claim {number} of {len(spec.claims)}")
        started = time.monotonic()
        result.claims.append(verify_claim(claim, spec, left))
        if claims_time is not None:
            claims_time.used += time.monotonic() - started
    _write_documents(spec, model, derivations, out, pdf, progress, result)
    for backend in spec.export:
        progress(f"exporting {backend}")
        _export_and_check(spec, model, backend, out, progress, result)
    return result


def verify_claim(claim, spec, seconds: float | None = None) -> ClaimResult:
    """One [[claims]] entry of ``spec`` checked as ``symbptt verify`` checks it: about the lecture's
    RNN, or, for a spec with a [model] table (an LSTM, a GRU), in that model's own names and on its
    own network, as ``symbptt verify --model SPEC`` does."""
    from symbptt.verify.check import DEFAULT_TIME_LIMIT, Options
    from symbptt.verify.check import verify_claim as check
    from symbptt.verify.search import Settings

    limit = DEFAULT_TIME_LIMIT if seconds is None else min(DEFAULT_TIME_LIMIT, seconds)
    names = _claim_names(spec)
    activation = names.activation if names is not None else spec.activation
    options = Options(activation=activation, s0_zero=spec.s0 == "zeros", time_limit=limit, names=names,
                      settings=Settings(zero_parameters=names.absent if names is not None else ()))  # fmt: skip
    report = check(claim.latex, options)
    statuses = [step.verdict.status for step in report.steps]
    verdict = "wrong" if "wrong" in statuses else "undecided" if "undecided" in statuses else "correct"
    reasons = [f"step {step.number}: {step.verdict.reason}" for step in report.steps if step.verdict.status != "correct"]
    return ClaimResult(claim.name, claim.expect, verdict, "; ".join(reasons))


_NAMES: dict = {}  # id(spec) → (spec, its names): the spec's step graph is built once per build


def _claim_names(spec):
    """The names a spec's claims are written in: None for the lecture's RNN (model = "rnn")."""
    if getattr(spec, "cell", None) is None:
        return None
    cached = _NAMES.get(id(spec))
    if cached is None or cached[0] is not spec:
        from symbptt.verify.model_names import names_of_spec

        cached = _NAMES[id(spec)] = (spec, names_of_spec(spec))
    return cached[1]


def _write_documents(spec, model, derivations, out: Path, pdf, progress, result: SpecResult) -> None:
    from symbptt.latex.documents import Lecture, build, standalone
    from symbptt.latex.markdown import markdown

    lecture = Lecture(
        model=model, derivations=tuple(derivations), parameters=spec.parameters, T=spec.dimensions["T"],
        title=spec.title, author=spec.author, date=spec.date, topic=spec.topic, tau=spec.tau,
        figure_d=spec.figure_d, shapes=spec.shapes, detail=spec.detail,
    )  # fmt: skip
    write_documents(spec.styles, out, pdf, progress, result, lambda style: build(style, lecture),
                    lambda source: standalone(source, lecture), lambda: markdown(lecture))  # fmt: skip


def write_documents(styles, out: Path, pdf, progress, result: SpecResult, source_of, snippet_document,
                    markdown_text) -> None:
    """Each style's .tex (and its PDF when TeX is there or ``pdf`` asks for it) and notes.md.

    Shared by the lecture's RNN and by cells given by equations (``build_cell``): only how a
    style's source, the snippet's standalone document and the Markdown are made differs."""
    from symbptt.latex.compile import compile_next_to, find_engine

    compile_pdfs = pdf
    if pdf is not False:
        try:
            find_engine()
            compile_pdfs = True
        except TexError:
            if pdf:
                raise
            compile_pdfs = False
            result.notes.append("no TeX found: .tex written, PDFs skipped (scripts/setup.sh installs TeX)")
    for style in styles:
        progress(f"writing {style}")
        source = source_of(style)
        target = write_atomic(out / f"{style}.tex", source)
        result.files.append(target)
        if compile_pdfs:
            progress(f"compiling {style}.pdf")
            document = snippet_document(source) if style == "snippet" else source
            result.files.append(compile_next_to(target, document))
    result.files.append(write_atomic(out / "notes.md", markdown_text()))


def _export_and_check(spec, model, backend: str, out: Path, progress, result: SpecResult) -> None:
    from symbptt.numeric.check import compare_module, trials
    from symbptt.numeric.export import ExportInfo, export_source, load_module

    source = export_source(model, backend, ExportInfo(spec=spec.name, title=spec.title))
    module_name = f"{spec.name.replace('-', '_')}_{backend}"
    result.files.append(write_atomic(out / f"{module_name}.py", source))
    try:
        module = load_module(source, module_name)
    except ImportError as missing:  # jax or torch not installed here: the file is still written
        result.notes.append(f"{backend} not installed: {module_name}.py written, not checked ({missing.name})")
        return
    if backend == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)  # the agreement is checked in float64
    progress(f"checking {backend}")
    comparison = compare_module(module, spec.activation, trials(CHECK_TRIALS, CHECK_SEED), backend)
    result.worst_reference = _worse(result.worst_reference, comparison.reference)
    result.worst_differences = _worse(result.worst_differences, comparison.differences)
    result.check_ok = result.check_ok and comparison.ok


def _worse(old: float | None, new: float) -> float:
    return new if old is None or new != new or new > old else old  # NaN (new != new) wins


def summary(results: list[SpecResult], root: Path) -> str:
    """The table the command prints at the end, one row per spec."""
    import textwrap

    rows = [("spec", "steps", "claims verified", "worst error: reference / differences")]
    for item in results:
        good = sum(claim.ok for claim in item.claims)
        claims = f"{good}/{len(item.claims)}" if item.claims else "—"
        error = "—" if item.worst_reference is None else f"{item.worst_reference:.1e} / {item.worst_differences:.1e}"
        rows.append((item.name, str(item.steps), claims, error))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    for item in results:  # the files under the table, wrapped: a list of paths is too long for a column
        files = ", ".join(_relative(path, root) for path in item.files) or "none"
        lines += textwrap.wrap(f"{item.name} wrote: {files}", SUMMARY_WIDTH, subsequent_indent="    ",
                               break_on_hyphens=False, break_long_words=False)  # fmt: skip
    for item in results:
        for claim in item.claims:
            if not claim.ok:
                lines.append(f"{item.name}: claim '{claim.name}' is {claim.verdict}, expected {claim.expect}: {claim.detail}")
        if not item.check_ok:
            lines.append(f"{item.name}: the exported code disagrees with the reference (run `symbptt check {item.name}`)")
        lines += [f"{item.name}: {note}" for note in item.notes]
    failed = [item.name for item in results if not item.ok]
    lines.append("FAILED: " + ", ".join(failed) if failed else f"all {len(results)} built and checked")
    return "\n".join(lines) + "\n"


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def output_folder(root: Path, spec_name: str) -> Path:
    folder = root / spec_name
    if folder.exists() and not folder.is_dir():
        raise SymbpttError("is a file, not a folder to build into", str(folder))
    return folder
