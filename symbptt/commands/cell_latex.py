"""``symbptt latex`` for a cell given by its equations: notes, slides or a snippet (--pdf compiles)."""

from __future__ import annotations

from symbptt.errors import DimensionError, UsageError


def cell_source(args, spec) -> tuple[str, str]:
    """The cell's notes, slides, snippet or Markdown, and what --pdf compiles (a snippet inside a
    minimal article); ``symbptt latex`` writes them (commands/latex.py)."""
    from symbptt.cell.derive import derive_cell
    from symbptt.commands.cell_derive import cell_graph, parameters_of
    from symbptt.commands.common import steps_option
    from symbptt.latex.cell_documents import CellLecture, build, standalone
    from symbptt.spec import MAX_EXPANDED_T

    if spec.topic == "gradient-flow":  # the LSTM's gradient-flow lecture, as build writes it
        from symbptt.commands.flow_latex import flow_source

        return flow_source(args, spec)
    if args.figure_d is not None:
        raise UsageError("--figure-d draws the lecture's sparse tensor; a cell's notes draw its step graph", "--figure-d")
    spec, graph = cell_graph(args, spec)
    T = steps_option(args, spec)
    if T > MAX_EXPANDED_T:
        raise DimensionError(f"{T} steps are too many to write out term by term (at most {MAX_EXPANDED_T})", "--T")
    derived = derive_cell(graph, parameters_of(args.wrt, spec, graph), T)
    lecture = CellLecture(derived=derived, title=spec.title, author=spec.author, date=spec.date,
                          settings={"index_style": args.index_style},
                          detail=getattr(args, "detail", None) or spec.detail)  # fmt: skip
    if args.format == "markdown":
        from symbptt.latex.cell_documents import markdown

        return markdown(lecture), ""
    source = build(args.style, lecture)
    return source, standalone(source) if args.style == "snippet" else source
