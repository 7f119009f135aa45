"""``symbptt latex`` for a cell given by its equations: notes, slides or a snippet (--pdf compiles)."""

from __future__ import annotations

from symbptt.errors import DimensionError, UsageError


def run_cell(args) -> str:
    from pathlib import Path

    from symbptt.cell.derive import derive_cell
    from symbptt.commands.cell_derive import cell_graph, parameters_of
    from symbptt.commands.common import steps_option
    from symbptt.files import write_atomic
    from symbptt.latex.cell_documents import CellLecture, build, standalone
    from symbptt.spec import MAX_EXPANDED_T, resolve

    if resolve(args.spec).topic == "gradient-flow":  # the LSTM's gradient-flow lecture, as build writes it
        from symbptt.commands.flow_latex import run_flow

        return run_flow(args, resolve(args.spec))
    if args.figure_d is not None:
        raise UsageError("--figure-d draws the lecture's sparse tensor; a cell's notes draw its step graph", "--figure-d")
    spec, graph = cell_graph(args)
    T = steps_option(args, spec)
    if T > MAX_EXPANDED_T:
        raise DimensionError(f"{T} steps are too many to write out term by term (at most {MAX_EXPANDED_T})", "--T")
    derived = derive_cell(graph, parameters_of(args.wrt, spec, graph), T)
    lecture = CellLecture(derived=derived, title=spec.title, author=spec.author, date=spec.date,
                          settings={"index_style": args.index_style},
                          detail=getattr(args, "detail", None) or spec.detail)  # fmt: skip
    if args.format == "markdown":
        from symbptt.latex.cell_documents import markdown

        source = markdown(lecture)
    else:
        source = build(args.style, lecture)
    if not args.output:
        return source
    target = Path(args.output)
    write_atomic(target, source)
    if not args.pdf:
        return f"wrote {target}\n"
    from symbptt.latex.compile import compile_next_to

    document = standalone(source) if args.style == "snippet" else source
    pdf = compile_next_to(target, document, timeout=args.timeout)
    return f"wrote {target} and {pdf}\n"
