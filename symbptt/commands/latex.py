"""``symbptt latex``: the lecture's derivation as notes, Beamer slides or a snippet
(LaTeX, compiled to PDF with ``--pdf``), or as Markdown with ``$$…$$`` mathematics."""

from __future__ import annotations

from symbptt.commands.common import (
    PARAMETERS,
    add_model_options,
    seconds,
    spec_and_model,
    steps_option,
)
from symbptt.errors import DimensionError, UsageError

STYLES = ("notes", "slides", "snippet")
MAX_TEX_SECONDS = 3600


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
    parser.add_argument("--timeout", type=seconds(0, MAX_TEX_SECONDS), default=180.0, metavar="S",
                        help=f"seconds TeX may take (default 180, at most {MAX_TEX_SECONDS})")
    return parser


def run(args) -> str:
    from symbptt.files import check_output, printable
    from symbptt.latex.documents import Lecture, build, standalone
    from symbptt.lecture import derivations_for
    from symbptt.spec import MAX_EXPANDED_T

    if args.pdf and args.output is None:
        raise UsageError("--pdf needs -o FILE: the PDF is written beside the .tex", "--pdf")
    if args.pdf and args.format != "latex":
        raise UsageError("--pdf compiles LaTeX; it does not go with --format markdown", "--pdf")
    # Where the output goes is checked before any work: a device, a FIFO, a folder or a
    # link is refused, and so is a .tex whose PDF would land on itself.
    target = check_output(args.output) if args.output is not None else None
    pdf_target = check_output(target.with_suffix(".pdf")) if args.pdf else None
    if pdf_target is not None and pdf_target == target:
        raise UsageError("with --pdf, -o names the .tex; its PDF is written beside it", printable(target))
    if args.pdf:
        from symbptt.errors import TexError
        from symbptt.latex.compile import find_engine, missing_tex_message

        try:
            find_engine()  # without TeX, --pdf writes nothing: the .tex and its PDF come together
        except TexError as error:
            raise TexError(missing_tex_message().replace("the .tex is written", "nothing was written (without "
                           "--pdf, the .tex is)"), error.where) from None  # fmt: skip
    from symbptt.spec import resolve

    spec = resolve(args.spec)
    if spec.cell is not None:  # a cell given by its equations (or the LSTM's gradient-flow lecture)
        from symbptt.commands.cell_latex import cell_source

        source, document = cell_source(args, spec)
        return _write(source, document, target, pdf_target, args.timeout)
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
    # A snippet has no preamble: it is compiled inside a minimal article.
    document = standalone(source, lecture) if args.style == "snippet" else source
    return _write(source, document, target, pdf_target, args.timeout)


def _write(source: str, document: str, target, pdf_target, timeout: float) -> str:
    """The source to stdout, or to -o; with --pdf, ``document`` compiled, and the .tex and the
    PDF written together once TeX has succeeded: a failed compile leaves the old pair as it was."""
    from symbptt.files import printable, write_atomic, write_together

    if target is None:
        return source
    if pdf_target is None:
        write_atomic(target, source)
        return f"wrote {printable(target)}\n"
    from symbptt.latex.compile import JOBNAME, compile_pdf

    stem = target.stem if JOBNAME.match(target.stem) else "lecture"
    pdf = compile_pdf(document, jobname=stem, timeout=timeout)
    write_together({target: source, pdf_target: pdf})
    return f"wrote {printable(target)} and {printable(pdf_target)}\n"


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
