"""``symbptt derive``: the derivations of the spec's parameters, as text, LaTeX or JSON."""

from __future__ import annotations

import gc
import json

from symbptt.commands.common import PARAMETERS, add_model_options, spec_and_model, steps_option
from symbptt.errors import UsageError

# Beyond this many entries the explicit program prints a summary, not every entry.
MAX_PRINTED_ENTRIES = 5_000


def add_parser(commands):
    parser = commands.add_parser(
        "derive",
        help="derive the gradients step by step (index notation, shapes, BPTT sum)",
        description="Derive ∂L/∂θ for the lecture's RNN: element formulas with the rule of every step, "
        "the shapes, the BPTT sum for a general t and expanded for a concrete T, the collapse of the "
        "sparse tensor and the vectorised form. --explicit prints the reverse-mode program instead.",
    )
    add_model_options(parser)
    parser.add_argument("--wrt", metavar="PARAM",
                        help="the parameter (default: all of the spec's; W, U, V, b or c for the lecture's RNN)")
    parser.add_argument("--explicit", action="store_true",
                        help="the reverse-mode program for concrete --d --n --k --T, as named assignments")
    parser.add_argument("--format", choices=("text", "latex", "json"), default="text")
    parser.add_argument("--entries", action="store_true", help="with --explicit: print every entry of every assignment")
    return parser


def run(args) -> str:
    """The output, from the on-disk cache when the same spec, options and code made it before."""
    from symbptt import cache
    from symbptt.spec import resolve

    spec = resolve(args.spec)  # cheap (no SymPy); a bad spec is an error before anything else
    source = spec.path.read_bytes().decode("utf-8") if spec.path is not None else ""
    options = {name: getattr(args, name, None) for name in
               ("activation", "d", "n", "k", "T", "s0", "wrt", "explicit", "format", "entries")}  # fmt: skip
    key = cache.key("derive", spec.name, source, options)
    text = cache.get_text("derive", key)
    if text is None:
        text = _derive(args)
        cache.put_text("derive", key, text)
    return text


def _derive(args) -> str:
    from symbptt.latex.printer import derivation_to_latex
    from symbptt.latex.text import derivation_to_text
    from symbptt.lecture import derivations_for
    from symbptt.spec import resolve

    if resolve(args.spec).cell is not None:  # a cell given by its equations
        from symbptt.commands.cell_derive import run_cell

        return run_cell(args)
    if args.wrt is not None and args.wrt not in PARAMETERS:
        raise UsageError(f"invalid choice: {args.wrt!r} (the lecture's RNN has the parameters "
                         f"{', '.join(PARAMETERS)})", "--wrt")  # fmt: skip
    spec, model = spec_and_model(args)
    T = steps_option(args, spec)
    if args.explicit:
        return _explicit(model, T, args)
    if args.entries:
        raise UsageError("--entries goes with --explicit", "--entries")
    from symbptt.errors import DimensionError
    from symbptt.spec import MAX_EXPANDED_T

    if T > MAX_EXPANDED_T:  # the expansions are printed term by term: T(T+1)/2 of them
        raise DimensionError(f"{T} steps are too many to write out term by term (at most {MAX_EXPANDED_T}; "
                             "--explicit takes up to 1024)", "--T")  # fmt: skip
    parameters = (args.wrt,) if args.wrt else spec.parameters
    items = derivations_for(model, parameters, T, spec.topic, spec.tau)
    if args.format == "json":
        return json.dumps({"spec": spec.name, "model": _model_record(model, T),
                           "derivations": [_record(item) for item in items]}, ensure_ascii=False, indent=2) + "\n"  # fmt: skip
    if args.format == "latex":
        blocks = [f"% {item.title}\n{derivation_to_latex(item, 'align*')}" for item in items]
        return "\n\n".join(blocks) + "\n"
    header = f"{spec.title}\n{_model_line(model, T)}\n\n"
    return header + "\n\n".join(derivation_to_text(item) for item in items) + "\n"


def _model_line(model, T) -> str:
    act = "σ (logistic)" if model.activation.name == "sigmoid" else "tanh"
    s0 = "s_0 = 0" if model.s0_zero else "s_0 a given constant"
    return f"RNN with d = {model.d}, n = {model.n}, K = {model.k} classes, activation {act}, {s0}; T = {T} for expansions"


def _model_record(model, T) -> dict:
    return {"d": str(model.d), "n": str(model.n), "k": str(model.k), "T": T,
            "activation": model.activation.name, "s0": "zeros" if model.s0_zero else "symbol"}  # fmt: skip


def _record(item) -> dict:
    from symbptt.latex.printer import derivation_rows, to_latex
    from symbptt.latex.text import to_text

    rows = derivation_rows(item)
    return {
        "name": item.name,
        "title": item.title,
        "lhs": {"text": to_text(item.lhs), "latex": to_latex(item.lhs)},
        "steps": [
            {"text": to_text(step.rhs), "latex": latex, "rule": {"text": step.rule.text, "latex": rule}}
            for step, (_, latex, rule) in zip(item.steps, rows, strict=True)
        ],
        "shapes": [{"of": label, "shape": str(shape)} for label, shape in item.shapes],
        "notes": list(item.notes),
    }


def _explicit(model, T: int, args) -> str:
    from symbptt import program
    from symbptt.latex.printer import to_latex
    from symbptt.latex.text import to_text

    built = program.build(model, T)
    # The program is up to millions of acyclic SymPy objects that live until the process
    # ends: left to the cycle collector, printing it cost 50 times what printing does.
    gc.freeze()
    entries = built.size
    show_entries = args.entries or entries <= MAX_PRINTED_ENTRIES and args.format != "text"
    if args.format == "json":
        return json.dumps({
            "model": _model_record(model, T),
            "assignments": [
                {"name": item.name, "phase": item.phase, "text": to_text(item.term), "latex": to_latex(item.term),
                 **({"entries": [{"index": list(index), "text": to_text(expr)} for index, expr in item.elements]}
                    if show_entries else {"entries_count": len(item.elements)})}
                for item in built.assignments
            ],
        }, ensure_ascii=False, indent=2) + "\n"  # fmt: skip
    if args.format == "latex":
        lines = [rf"{_latex_name(item.name)} &= {to_latex(item.term)}" for item in built.assignments]
        return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}\n"
    out = [
        f"Reverse-mode program: {_model_line(model, T)}",
        f"{len(built.assignments)} assignments, {entries} entries; each uses the names of earlier ones",
        "",
    ]
    phase = None
    for item in built.assignments:
        if item.phase != phase:
            phase = item.phase
            out.append(f"# {phase}")
        out.append(f"{item.name} = {to_text(item.term)}")
        if args.entries:
            for index, expr in item.elements:
                out.append(f"    [{','.join(map(str, index))}] = {to_text(expr)}")
    if not args.entries:
        out.append("")
        out.append("(add --entries to print every entry of every assignment)")
    return "\n".join(out) + "\n"


def _latex_name(name: str) -> str:
    if name.startswith("∂L/∂"):
        return rf"\frac{{\partial L}}{{\partial {name[4:]}}}"
    base, step = name.split("_", 1)
    symbol = r"\boldsymbol{\delta}" if base == "δ" else base
    return rf"{symbol}_{{{step}}}"
