r"""Verdicts: is each step of a hand derivation right?

For one step ``A = B`` the passes run in this order, each able to decide:

1. meaning (:mod:`.semantics`): a step that cannot be read as a statement about
   the model is *undecided*, with the reason;
2. limits (:mod:`.limits`): sums, steps and powers beyond what is checked are
   *undecided: too large*, before anything is expanded;
3. shapes (:mod:`.shapes`): a side that is not well-formed, or two sides of
   different shapes, is *wrong*, the shapes being the counterexample;
4. algebra (:mod:`.algebra`): a claim without network quantities is *proved*
   by SymPy, or *wrong* at a point found in multi-precision, or *undecided*;
5. symbolic (:mod:`.symbolic`): an element-level step whose difference
   simplifies to 0 is *correct (proved)*;
6. numeric (:mod:`.search`): both sides at many random points (d, n, K across
   1…8, T across 1…6 and past the largest step written); a disagreement is
   *wrong*, with the point and the numbers on both sides as the counterexample;
   agreement everywhere is *correct (checked on numbers)* — unless the sides
   agree only to about 11 digits somewhere, or a constant is beyond 10^{±8},
   where float64 cannot settle it: *undecided*.

A chain ``A = B = C`` is checked step by step; its report names its first wrong
step. Nothing here reads files, prints or exits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from symbptt.errors import SymbpttError
from symbptt.verify import algebra, ast, ir, limits, parser, search, shapes
from symbptt.verify import evaluate as ev
from symbptt.verify.semantics import Meaning, MeaningError, TooLarge, meaning

CORRECT, WRONG, UNDECIDED = "correct", "wrong", "undecided"
NEAR_AGREEMENT = 1e-11
"""Rounding in the network's float64 arithmetic stays below about 3·10⁻¹³ (relative) on the
lecture's claims; sides that differ by more, yet within the tolerance, are not called equal."""
DEFAULT_TIME_LIMIT = 20.0


@dataclass(frozen=True)
class Options:
    """The model the claims are about, and how hard to look."""

    activation: str = "sigmoid"
    s0_zero: bool = False
    T: int | None = None
    time_limit: float = DEFAULT_TIME_LIMIT
    settings: search.Settings = field(default_factory=search.Settings)
    names: object = None  # a .model_names.ModelNames: the claims are in a spec's names (--model)


@dataclass
class Counterexample:
    """Where a step fails: the point and both sides' numbers, or the two shapes."""

    point: search.Point | None = None
    left: np.ndarray | None = None
    right: np.ndarray | None = None
    where: tuple[int, ...] | None = None
    shapes: tuple[str, ...] | None = None
    shapes_of: str = "sides"  # "sides": the two sides' shapes; "factors": the factors that do not fit
    detail: str | None = None


@dataclass
class Verdict:
    status: str
    method: str
    reason: str
    counterexample: Counterexample | None = None
    notes: list[str] = field(default_factory=list)
    points: int = 0


@dataclass
class StepResult:
    """One ``=`` of a claim or chain, with where it was written."""

    number: int
    line: int | None
    column: int | None
    lhs: ast.Node
    rhs: ast.Node
    lhs_text: str
    rhs_text: str
    verdict: Verdict
    meaning: Meaning | None = None


@dataclass
class ChainResult:
    source: str
    environment: str | None
    line: int | None
    end_line: int | None
    steps: list[StepResult]

    @property
    def first_wrong(self) -> StepResult | None:
        return next((step for step in self.steps if step.verdict.status == WRONG), None)


@dataclass
class Report:
    source: str
    chains: list[ChainResult]

    @property
    def steps(self) -> list[StepResult]:
        return [step for chain in self.chains for step in chain.steps]

    def count(self, status: str) -> int:
        return sum(step.verdict.status == status for step in self.steps)

    @property
    def exit_code(self) -> int:
        """0 when every step is correct (and there is one), else 1."""
        steps = self.steps
        return 0 if steps and all(step.verdict.status == CORRECT for step in steps) else 1


# --------------------------------------------------------------------------- one step


def _T_values(meaning_: Meaning, options: Options, largest_step: int, written_T: bool) -> list[int]:
    """The sequence lengths tried: --T when given, else every T from 1 (or the largest step
    written) to 6 (or two past it). A claim about concrete steps is not taken to end at its
    last step: δ_2 = Vᵀ(y_2 − e_2) is true only when T = 2, so it is wrong."""
    if options.T is not None:
        if options.T < max(1, largest_step):
            raise MeaningError(f"--T {options.T} is shorter than the step {largest_step} written in the claim")
        return [options.T]
    first = max(1, largest_step)
    return list(range(first, max(options.settings.T_last, first + 2) + 1))


def check_step(lhs: ast.Node, rhs: ast.Node, options: Options,
               conditions: tuple[ast.Condition, ...] = ()) -> tuple[Verdict, Meaning | None]:  # fmt: skip
    """The verdict on ``lhs = rhs`` (and the meaning, when it could be read); ``conditions``
    (a range written after the claim) restrict the points it is judged at."""
    with ir.using(getattr(options.names, "table", None) or ir.LECTURE):
        return _check_step(lhs, rhs, options, conditions)


def _check_step(lhs: ast.Node, rhs: ast.Node, options: Options,
                conditions: tuple[ast.Condition, ...]) -> tuple[Verdict, Meaning | None]:  # fmt: skip
    deadline = time.monotonic() + options.time_limit
    try:
        written = len(conditions)
        if options.names is not None:
            lhs, rhs, conditions = options.names.translate(lhs, rhs, conditions)
        read = meaning(lhs, rhs, conditions)
        if len(conditions) > written:
            read.notes.append("a parameter's copy at step t (b^{(t)}) exists for t ≥ 1 only: judged there")
    except TooLarge as error:
        return Verdict(UNDECIDED, "limits", error.what), None
    except MeaningError as error:
        return Verdict(UNDECIDED, "semantics", f"cannot read the step: {error.what}"), None
    notes = list(read.notes)
    try:
        largest_step, needs, written_T = limits.concrete_needs(read)
        Ts = _T_values(read, options, largest_step, written_T)
        if max(Ts) > limits.MAX_STEPS:
            raise TooLarge(f"too large: T = {max(Ts)} (at most {limits.MAX_STEPS} steps are checked)")
        biggest = {name: max(max(getattr(s, name) for s in options.settings.sizes), needs[name]) for name in ("d", "n", "K")}
        limits.check(read, biggest, max(Ts), exact=algebra.is_pure(read))
    except TooLarge as error:
        return Verdict(UNDECIDED, "limits", error.what, notes=notes), read
    except MeaningError as error:
        return Verdict(UNDECIDED, "semantics", error.what, notes=notes), read

    try:
        left_shape, right_shape = shapes.shape_of(read.lhs), shapes.shape_of(read.rhs)
    except shapes.ShapeMismatch as error:
        side = "left" if _fails(read.lhs) else "right"
        example = (
            Counterexample(shapes=tuple(str(shape) for shape in error.shapes), shapes_of="factors")
            if error.shapes else None
        )  # fmt: skip
        return Verdict(WRONG, "shapes", f"the {side} side is not well-formed: {error.what}", example, notes), read
    except shapes.Unsupported as error:
        return Verdict(UNDECIDED, "shapes", f"not checked: {error.what}", notes=notes), read
    if not shapes.sides_agree(left_shape, right_shape) and _accented_free(read):
        return Verdict(UNDECIDED, "shapes", f"shapes {left_shape} and {right_shape}, but {_accented_free(read)} "
                       "is read as a free scalar: if it names a vector or a matrix, it is not one of the "
                       "lecture's quantities", notes=notes), read  # fmt: skip
    if not shapes.sides_agree(left_shape, right_shape):
        reason = f"shapes {left_shape} and {right_shape}"
        hint = _transpose_hint(read, left_shape, right_shape, Ts, options, deadline, needs)
        if hint:
            notes.append(hint)
        return Verdict(WRONG, "shapes", reason, Counterexample(shapes=(str(left_shape), str(right_shape))), notes), read
    if read.conflicts:
        detail = ("at d = 2, n = 3, k = 4 (classes) the ranges differ: a value of the index that is "
                  "valid in one place is out of range in another")  # fmt: skip
        return Verdict(WRONG, "shapes", read.conflicts[0], Counterexample(detail=detail), notes), read

    if read.lhs == read.rhs:
        return Verdict(CORRECT, "symbolic", "proved: both sides are the same expression", notes=notes), read
    if _element_level(left_shape, right_shape) and algebra.is_pure(read):
        return _algebra(read, options, notes, deadline), read
    extreme = algebra.extreme_constant(read, options.activation)
    if extreme:
        return Verdict(UNDECIDED, "limits", extreme, notes=notes), read
    if _element_level(left_shape, right_shape) and options.activation in ("sigmoid", "tanh") and ir.table().lecture:
        from symbptt.verify import symbolic  # SymPy: imported only when a step is element-level

        model = _symbolic_model(options.activation)
        if symbolic.prove(read, model):
            return Verdict(CORRECT, "symbolic", "proved: the difference simplifies to 0", notes=notes), read
    return _numeric(read, Ts, options, deadline, needs, notes), read


def _algebra(read: Meaning, options: Options, notes, deadline: float) -> Verdict:
    """A claim without network quantities: proved by SymPy, or refuted in multi-precision."""
    from symbptt.verify import algebra_proof, symbolic  # SymPy: only for element-level steps

    if algebra_proof.proved(read, options.activation) or symbolic.prove(read, _symbolic_model(options.activation)):
        return Verdict(CORRECT, "symbolic", "proved: the difference simplifies to 0 (exact arithmetic, "
                       "for every size, index and real value of the free variables)", notes=notes)  # fmt: skip
    found, compared = algebra.counterexample(read, options.activation, options.settings.seed, deadline)
    if found is not None:
        detail = algebra.describe(read, *found)
        return Verdict(WRONG, "numeric", "the two sides differ", Counterexample(detail=detail), notes, compared)
    return Verdict(UNDECIDED, "symbolic", f"not proved, and no counterexample at {compared} points in "
                   f"{algebra.WORKING_DIGITS}-digit arithmetic", notes=notes, points=compared)  # fmt: skip


def _accented_free(read: Meaning) -> str | None:
    """An accented name (\\hat{y}, \\tilde{W}), read as a free scalar, that may mean a vector."""
    from symbptt.verify.semantics import free_latex

    for side in (read.lhs, read.rhs):
        for item in ir.walk(side):
            if isinstance(item, ir.Free) and " " in item.name:
                return free_latex(item.name)
    return None


def _fails(side) -> bool:
    try:
        shapes.shape_of(side)
    except SymbpttError:
        return True
    return False


def _element_level(left: shapes.Shape, right: shapes.Shape) -> bool:
    return all(s.kind == shapes.NUMBER or s.is_scalar for s in (left, right))


_MODELS: dict = {}


def _symbolic_model(activation: str):
    from symbptt.model import RNN

    if activation not in _MODELS:
        _MODELS[activation] = RNN.create(activation_name=activation)
    return _MODELS[activation]


def _numeric(read: Meaning, Ts, options: Options, deadline: float, needs, notes) -> Verdict:  # noqa: C901
    try:
        found = search.search(read, Ts, _settings(options), options.activation, options.s0_zero, deadline, needs)
    except shapes.Unsupported as error:
        return Verdict(UNDECIDED, "numeric", f"not checked: {error.what}", notes=notes)
    except ev.OutOfTime:
        return Verdict(UNDECIDED, "numeric", f"the time budget of {options.time_limit:g} s ran out", notes=notes)
    if found.mismatch is not None:
        point, left, right, where = found.mismatch
        return Verdict(WRONG, "numeric", "the two sides differ", Counterexample(point, left, right, where),
                       notes, found.points)  # fmt: skip
    if found.ill_formed is not None:
        point, message = found.ill_formed
        return Verdict(WRONG, "numeric", f"a quantity does not exist: {message}", Counterexample(point), notes, found.points)
    if found.not_finite is not None and found.points == 0:
        point, left, right = found.not_finite
        return Verdict(UNDECIDED, "numeric", "the values are not finite numbers (a log of a "
                       "non-positive number, a division by 0 or an overflow)", Counterexample(point, left, right),
                       notes, found.points)  # fmt: skip
    if found.points == 0:
        why = f" ({found.skipped})" if found.skipped else ""
        return Verdict(UNDECIDED, "numeric", f"no point where both sides are defined{why}", notes=notes)
    if found.worst > NEAR_AGREEMENT:
        point, left, right = found.worst_point
        digits = max(0, int(-np.log10(found.worst)))
        return Verdict(UNDECIDED, "numeric", f"the sides agree to only about {digits} digits somewhere: float64 "
                       "cannot tell a rounding error from a small true difference", Counterexample(point, left, right),
                       notes, found.points)  # fmt: skip
    ds = sorted({s.d for s in found.sizes})
    T_text = _range_text(sorted(found.Ts))
    reason = (f"checked on numbers, not proved: equal at {found.points} points (d = {_range_text(ds)}, "
              f"n = {_range_text(sorted({s.n for s in found.sizes}))}, K = {_range_text(sorted({s.K for s in found.sizes}))}, "
              f"{_steps_symbol(options)} = {T_text}, {options.settings.draws} random networks each)")  # fmt: skip
    where = _where_text(read, found, _steps_symbol(options))
    if where:
        reason += f"; judged {where}"
    return Verdict(CORRECT, "numeric", reason, notes=notes, points=found.points)


def _settings(options: Options) -> search.Settings:
    """The search settings, with the parameters a --model spec does not have held at 0."""
    from dataclasses import replace

    settings = options.settings
    absent = tuple(getattr(options.names, "absent", ()))
    if absent and settings.zero_parameters != absent:
        settings = replace(settings, zero_parameters=absent)
    network = getattr(options.names, "network", None)  # a spec's cell: its own network
    if network is not None and settings.network is not network:
        settings = replace(settings, network=network)
    return settings


_GREEK = {"tau": "τ", "theta": "θ", "nu": "ν", "eta": "η", "lambda": "λ", "mu": "μ", "rho": "ρ"}


def _steps_symbol(options: Options) -> str:
    """How the model writes the number of steps: T, or τ for a --model spec with steps = '\tau'."""
    name = getattr(options.names, "steps", "T") or "T"
    return _GREEK.get(name, name)


def _offset_text(offset: int, last: str = "T") -> str:
    return last if offset == 0 else f"{last}{offset:+d}".replace("-", "−")


def _where_text(read: Meaning, found, last: str = "T") -> str:
    """Where a claim about general steps was judged: the steps at which every quantity in it
    exists (and the range written after it)."""
    parts = [f"for {name} = {low} … {_offset_text(high, last)}" for name, (low, high) in sorted(found.step_ranges.items())]
    if read.conditions:
        written = ", ".join(f"{_renamed(left, last)} {_OPERATOR_TEXT[op]} {_renamed(right, last)}"
                            for left, op, right in read.conditions)  # fmt: skip
        parts.append(f"where {written}")
    return "; ".join(parts)


def _renamed(lin: ir.Lin, last: str) -> str:
    """An index expression with the number of steps T written as the model writes it (τ)."""
    return str(ir.Lin(lin.const, tuple((last if name == "T" else name, c) for name, c in lin.terms)))


_OPERATOR_TEXT = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "!=": "≠"}


def _range_text(values: list[int]) -> str:
    if not values:
        return "-"
    return str(values[0]) if values[0] == values[-1] else f"{values[0]}…{values[-1]}"


def _transpose_hint(read: Meaning, left, right, Ts, options: Options, deadline, needs) -> str | None:
    """When a row meets a column, say whether the entries agree (a missing ᵀ)."""
    if not (len(left.dims) == 2 and right.dims == left.dims[::-1]):
        return None
    flipped = Meaning(read.lhs, ir.Transpose(read.rhs), read.steps, read.entries)
    settings = search.Settings(sizes=options.settings.sizes[:1], draws=1, max_points=8, seed=options.settings.seed,
                               zero_parameters=_settings(options).zero_parameters,
                               network=_settings(options).network)  # fmt: skip
    try:
        found = search.search(flipped, Ts[:1], settings, options.activation, options.s0_zero, deadline, needs)
    except SymbpttError:
        return None
    if found.points and found.mismatch is None and found.ill_formed is None and found.not_finite is None:
        return "the entries agree: one side is the transpose of the other (a ^{\\top} is missing or extra)"
    return None


# --------------------------------------------------------------------------- claims and documents


def _text(source: str, node: ast.Node) -> str:
    span = node.span
    if span is None:
        return ""
    return " ".join(source[span.start : span.end].replace("&", " ").split())


def _steps(claim: ast.Claim, source_text: str, options: Options) -> list[StepResult]:
    results = []
    for number, step in enumerate(claim.steps, start=1):
        verdict, read = check_step(step.lhs, step.rhs, options, claim.conditions)
        results.append(StepResult(
            number, step.equals.line if step.equals else None, step.equals.column if step.equals else None,
            step.lhs, step.rhs, _text(source_text, step.lhs), _text(source_text, step.rhs), verdict, read,
        ))  # fmt: skip
    return results


def verify_claim(text: str, options: Options | None = None) -> Report:
    """Check ``LHS = RHS`` (or ``A = B = C``); a ParseError if it does not parse."""
    options = options or Options()
    claim = parser.parse_claim(text)
    steps = _steps(claim, text, options)
    return Report("claim", [ChainResult("claim", None, 1, 1, steps)])


def verify_chain(chain: ast.Chain, text: str, filename: str, options: Options) -> ChainResult:
    """One chain of a document, for a caller that checks chain by chain (on a budget); a chain
    that could not be read (``chain.problem``) is one undecided step saying where and why."""
    if chain.problem is not None:
        return ChainResult(filename, chain.environment, chain.line, chain.end_line, [_unreadable(chain)])
    return ChainResult(filename, chain.environment, chain.line, chain.end_line, _steps(chain.claim, text, options))


def verify_document(text: str, filename: str, options: Options | None = None) -> Report:
    """Check every chain of the ``equation``/``align`` environments of a .tex text."""
    options = options or Options()
    chains = []
    found = parser.extract_claims(text, filename, keep_going=True)
    readable = [chain for chain in found if chain.problem is None]
    if found and not readable:
        raise found[0].problem  # nothing in the file can be read: the first reason, with its position
    for chain in found:
        if chain.problem is not None:
            steps = [_unreadable(chain)]
        else:
            steps = _steps(chain.claim, text, options)
        chains.append(ChainResult(filename, chain.environment, chain.line, chain.end_line, steps))
    return Report(filename, chains)


def _unreadable(chain: ast.Chain) -> StepResult:
    """An equation that does not parse: undecided, with where and why; the others still count."""
    problem = chain.problem
    where = getattr(problem, "where", None) or f"{chain.source}:{chain.line}"
    what = getattr(problem, "what", None) or str(problem)
    verdict = Verdict(UNDECIDED, "syntax", f"cannot read this equation: {where}: {what}")
    return StepResult(1, chain.line, None, None, None, "", "", verdict)
