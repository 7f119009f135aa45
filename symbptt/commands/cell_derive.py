"""``symbptt derive`` for a cell given by its equations: text, LaTeX or JSON, or --explicit."""

from __future__ import annotations

import json

from symbptt.errors import DimensionError, UsageError


def cell_graph(args, spec=None):
    """The spec (read here unless given) and the step graph it describes, --d --n --k taking
    precedence over the spec."""
    from symbptt.cell.graph import build_graph
    from symbptt.model import dimension
    from symbptt.spec import resolve

    spec = resolve(args.spec) if spec is None else spec
    dims = dict(spec.dimensions)
    for key in ("d", "n", "k"):
        value = getattr(args, key, None)
        if value is not None:
            number = dimension(value, f"--{key}")
            dims[key] = int(number) if number.is_Integer else number.name
    if getattr(args, "activation", None) or getattr(args, "s0", None):
        raise UsageError("--activation and --s0 describe the lecture's RNN; a cell's equations say it all",
                         "--activation" if getattr(args, "activation", None) else "--s0")  # fmt: skip
    return spec, build_graph(spec.cell, dims)


def parameters_of(args_wrt, spec, graph) -> tuple:
    """The parameters asked for (``--wrt``, repeatable or one), checked against the cell's."""
    from symbptt.cell.names import spec_key

    if not args_wrt:
        return tuple(name for name in spec.parameters if name in graph.parameter_nodes) or graph.parameters
    asked = (args_wrt,) if isinstance(args_wrt, str) else tuple(dict.fromkeys(args_wrt))
    asked = tuple(dict.fromkeys(spec_key(name) or name for name in asked))  # W^{f} is the parameter W^f
    for name in asked:
        if name not in graph.parameter_nodes:
            raise UsageError(f"the cell {graph.model.name} has no parameter {name!r} "
                             f"(its parameters: {', '.join(graph.parameters)})", "--wrt")  # fmt: skip
    return asked


def run_cell(args) -> str:
    from symbptt.cell.derive import derive_cell, equations_text, model_line
    from symbptt.commands.common import steps_option
    from symbptt.latex.printer import derivation_to_latex
    from symbptt.latex.text import derivation_to_text
    from symbptt.spec import MAX_EXPANDED_T

    spec, graph = cell_graph(args)
    T = steps_option(args, spec)
    if args.explicit:
        return _explicit(graph, T, args)
    if args.entries:
        raise UsageError("--entries goes with --explicit", "--entries")
    if T > MAX_EXPANDED_T:
        raise DimensionError(f"{T} steps are too many to write out term by term (at most {MAX_EXPANDED_T}; "
                             "--explicit takes more)", "--T")  # fmt: skip
    derived = derive_cell(graph, parameters_of(args.wrt, spec, graph), T)
    items = derived.all()
    if args.format == "json":
        return json.dumps({"spec": spec.name, "model": _model_record(graph, T), "equations": equations_text(graph),
                           "derivations": [_record(item) for item in items]}, ensure_ascii=False, indent=2) + "\n"  # fmt: skip
    if args.format == "latex":
        blocks = [f"% {item.title}\n{derivation_to_latex(item, 'align*')}" for item in items]
        return "\n\n".join(blocks) + "\n"
    header = [spec.title, model_line(graph, T), "", "Equations (one step):"]
    header += [f"  {line}" for line in equations_text(graph)]
    return "\n".join(header) + "\n\n" + "\n\n".join(derivation_to_text(item) for item in items) + "\n"


def _model_record(graph, T) -> dict:
    return {"name": graph.model.name, "states": list(graph.states), "input": graph.model.input,
            "output": graph.model.output, "loss": graph.loss, "parameters": list(graph.parameters),
            **{letter: str(graph.size(letter)) for letter in ("d", "n", "k")}, "T": T}  # fmt: skip


def _record(item) -> dict:
    from symbptt.commands.derive import _record as record

    return record(item)


def _explicit(graph, T: int, args) -> str:
    from symbptt.cell.derive import model_line
    from symbptt.cell.reverse import reverse_program

    program = reverse_program(graph, T)
    assignments = program.assignments
    if args.format == "json":
        latex = program.latex_lines()
        # text() is one line per assignment, under a heading per phase: the same order
        texts = [line.split(" = ", 1)[1] for line in program.text().splitlines() if not line.startswith("# ")]
        return json.dumps({"model": _model_record(graph, T), "assignments": [
            {"name": program.name_text(item.target), "phase": item.phase, "text": text,
             "latex": line.split("&=", 1)[1].strip()}
            for item, text, line in zip(assignments, texts, latex, strict=True)]},
            ensure_ascii=False, indent=2) + "\n"  # fmt: skip
    if args.format == "latex":
        return "\\begin{align*}\n" + " \\\\\n".join(program.latex_lines()) + "\n\\end{align*}\n"
    header = [f"Reverse-mode program: {model_line(graph, T)}",
              f"{len(assignments)} assignments; each uses the names of earlier ones (never substituted)", ""]  # fmt: skip
    return "\n".join(header) + program.text()

