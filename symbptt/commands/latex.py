"""``symbptt latex``: the lecture's derivation as notes, Beamer slides or a snippet
(LaTeX, compiled to PDF with ``--pdf``), or as Markdown with ``$$…$$`` mathematics."""

from __future__ import annotations

from symbptt.commands.common import PARAMETERS, add_model_options, spec_and_model, steps_option
from symbptt.errors import DimensionError, UsageError

STYLES = ("notes", "slides", "snippet")


def add_parser(commands):
    parser = commands.add_parser(
        "latex",
        help="lecture LaTeX: notes, Beamer slides or a snippet (--pdf compiles), or Markdown",
        description="Write the derivation in the lecture's notation, every step justified, with the "
        "shape of every factor and the sparse tensor drawn: as lecture notes, Beamer slides "
        "(revealed step by step) or a snippet to \\input, or as Markdown. Without -o the source "
        "goes to stdout; --pdf compiles it with pdflatex in a sandbox and puts the PDF beside -o.",
    )
    add_model_options(parser)
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (.tex or .md) instead of stdout")
    parser.add_argument("--style", choices=STYLES, default="notes", help="notes (article, default), slides (Beamer) or snippet")
    parser.add_argument("--format", choices=("latex", "markdown"), default="latex")
    parser.add_argument("--pdf", action="store_true", help="also compile to PDF (needs -o and pdflatex)")
    parser.add_argument("--wrt", metavar="PARAM", action="append",
                        help="a parameter to include (repeat for several; default: the spec's)")  # fmt: skip
    parser.add_argument("--figure-d", type=int, metavar="D", help="d of the drawn sparse tensor (1 … 6; default: the spec's, 3)")
    parser.add_argument("--detail", choices=("concise", "full"),
                        help="concise: the lecture's story (default, or the spec's); full: every derivation of every parameter")
    parser.add_argument("--no-shapes", action="store_true", help="do not write the shape under each factor")
    parser.add_argument("--index-style", choices=("compact", "comma"), default="compact",
                        help="s_{kp} (compact, default) or s_{k,p} (comma)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=180.0, metavar="S", help="seconds TeX may take (default 180)")
    return parser


def run(args) -> str:
    from pathlib import Path

    from symbptt.files import write_atomic
    from symbptt.latex.documents import Lecture, build, standalone
    from symbptt.lecture import derivations_for
    from symbptt.spec import MAX_EXPANDED_T

    if args.pdf and not args.output:
        raise UsageError("--pdf needs -o FILE: the PDF is written beside the .tex", "--pdf")
    if args.pdf and args.format != "latex":
        raise UsageError("--pdf compiles LaTeX; it does not go with --format markdown", "--pdf")
    if args.timeout <= 0:
        raise UsageError("must be a positive number of seconds", "--timeout")
    from symbptt.spec import resolve

    if resolve(args.spec).cell is not None:  # a cell given by its equations
        from symbptt.commands.cell_latex import run_cell

        return run_cell(args)
    unknown = [name for name in args.wrt or () if name not in PARAMETERS]
    if unknown:
        raise UsageError(f"invalid choice: {unknown[0]!r} (the lecture's RNN has the parameters "
                         f"{', '.join(PARAMETERS)})", "--wrt")  # fmt: skip
    spec, model = spec_and_model(args)
    T = steps_option(args, spec)
    if T > MAX_EXPANDED_T:
        raise DimensionError(f"{T} steps are too many to write out term by term (at most {MAX_EXPANDED_T})", "--T")
    parameters = tuple(dict.fromkeys(args.wrt)) if args.wrt else spec.parameters
    lecture = Lecture(
        model=model,
        derivations=tuple(derivations_for(model, parameters, T, spec.topic, spec.tau)),
        parameters=parameters,
        T=T,
        title=spec.title,
        author=spec.author,
        date=spec.date,
        topic=spec.topic,
        tau=spec.tau,
        figure_d=_figure_d(args, spec, model),
        shapes=spec.shapes and not args.no_shapes,
        settings={"index_style": args.index_style},
        detail=args.detail or spec.detail,
    )
    if args.format == "markdown":
        from symbptt.latex.markdown import markdown

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

    # A snippet has no preamble: it is compiled inside a minimal article.
    document = standalone(source, lecture) if args.style == "snippet" else source
    pdf = compile_next_to(target, document, timeout=args.timeout)
    return f"wrote {target} and {pdf}\n"


def _figure_d(args, spec, model) -> int:
    """The figure's d: --figure-d, else the model's d when it is a small number, else the spec's."""
    from symbptt.latex.figures import MAX_FIGURE_D

    if args.figure_d is not None:
        value = args.figure_d
    elif model.d.is_Integer and int(model.d) <= MAX_FIGURE_D:
        value = int(model.d)
    else:
        value = spec.figure_d
    if not 1 <= value <= MAX_FIGURE_D:
        raise DimensionError(f"the figure is drawn for d = 1 … {MAX_FIGURE_D}, not {value}", "--figure-d")
    return value
