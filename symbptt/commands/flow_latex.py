"""``symbptt latex`` for a spec with ``topic = "gradient-flow"``: the LSTM's gradient-flow lecture
(notes, slides or snippet; --format markdown; --pdf compiles), as ``build`` writes it."""

from __future__ import annotations

from symbptt.errors import UsageError


def run_flow(args, spec) -> str:
    from pathlib import Path

    from symbptt.build_flow import flow_lecture
    from symbptt.files import write_atomic
    from symbptt.latex.gradient_flow import build, markdown, standalone

    for option in ("wrt", "figure_d", "d", "n", "k", "T", "activation", "s0", "detail"):
        if getattr(args, option, None):
            raise UsageError("the gradient-flow lecture is written as its spec says (its sizes and T, the whole cell); "
                             "edit the spec to change them", "--" + option.replace("_", "-"))  # fmt: skip
    lecture = flow_lecture(spec)
    source = markdown(lecture) if args.format == "markdown" else build(args.style, lecture)
    if not args.output:
        return source
    target = Path(args.output)
    write_atomic(target, source)
    if not args.pdf:
        return f"wrote {target}\n"
    from symbptt.latex.compile import compile_next_to

    pdf = compile_next_to(target, standalone(source) if args.style == "snippet" else source, timeout=args.timeout)
    return f"wrote {target} and {pdf}\n"
