"""``symbptt latex`` for a spec with ``topic = "gradient-flow"``: the LSTM's gradient-flow lecture
(notes, slides or snippet; --format markdown; --pdf compiles), as ``build`` writes it."""

from __future__ import annotations

from symbptt.errors import UsageError


def flow_source(args, spec) -> tuple[str, str]:
    """The lecture's source and what --pdf compiles; ``symbptt latex`` writes them."""
    from symbptt.build_flow import flow_lecture
    from symbptt.latex.gradient_flow import build, markdown, standalone

    for option in ("wrt", "figure_d", "d", "n", "k", "T", "activation", "s0", "detail"):
        if getattr(args, option, None):
            raise UsageError("the gradient-flow lecture is written as its spec says (its sizes and T, the whole cell); "
                             "edit the spec to change them", "--" + option.replace("_", "-"))  # fmt: skip
    lecture = flow_lecture(spec)
    if args.format == "markdown":
        return markdown(lecture), ""
    source = build(args.style, lecture)
    return source, standalone(source) if args.style == "snippet" else source
