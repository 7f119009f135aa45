"""``symbptt build``: derive, verify, write and check — the project's main job."""

from __future__ import annotations

import sys
import time

# A build is bounded: so many specs per run, and so long for all their claims together
# (a claim not reached in time is reported as such, and the build exits 1).
MAX_SPECS = 8  # about 3 s each without PDFs
MAX_SPECS_WITH_PDF = 4  # about 12 s each with their three PDFs
CLAIMS_SECONDS = 30.0


def add_parser(commands):
    parser = commands.add_parser(
        "build",
        help="build specs into verified notes, slides, snippet and checked numeric modules",
        description="For each spec (default: rnn-bptt): derive, verify its claims, write notes, "
        "slides and snippet (.tex, and .pdf when TeX is installed) and Markdown, export the numeric "
        "module(s), check them against the independent reference, and print a summary. Exit 1 when "
        "a claim or a check fails.",
    )
    parser.add_argument("specs", nargs="*", metavar="NAME|SPEC", help="shipped names or .toml files (default: rnn-bptt)")
    parser.add_argument("-o", "--output", default="build", metavar="DIR", help="where to build (default: ./build; one folder per spec)")
    pdf = parser.add_mutually_exclusive_group()
    pdf.add_argument("--pdf", dest="pdf", action="store_true", default=None, help="require PDFs (an error without TeX)")
    pdf.add_argument("--no-pdf", dest="pdf", action="store_false", help="write .tex only")
    return parser


class _Progress:
    """One status line on stderr, rewritten in place, on a terminal only: elsewhere (a log,
    a pipe) stderr carries nothing but the one line of an error."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.live = self._ask(lambda: self.stream.isatty())
        self.start = time.monotonic()

    def _ask(self, action):
        """Progress is a courtesy: a closed or full stderr silences it, never stops the build."""
        if self.stream is None:
            return False
        try:
            return action()
        except (OSError, ValueError, AttributeError):
            self.stream = None
            return False

    def __call__(self, spec: str, what: str) -> None:
        if self.live:
            text = f"\r\033[K[{time.monotonic() - self.start:5.1f}s] {spec}: {what}"
            self._ask(lambda: (self.stream.write(text), self.stream.flush()))

    def done(self) -> None:
        if self.live:
            self._ask(lambda: (self.stream.write("\r\033[K"), self.stream.flush()))


def _compiles(pdf: bool | None) -> bool:
    """Whether this build compiles PDFs: --pdf, or by default when TeX is installed."""
    if pdf is not None:
        return pdf
    from symbptt.errors import TexError
    from symbptt.latex.compile import find_engine

    try:
        find_engine()
    except TexError:
        return False
    return True


def run(args):
    from symbptt.build import ClaimsTime, build_spec, output_folder, summary
    from symbptt.errors import SymbpttError
    from symbptt.files import Staging, check_output_folder
    from symbptt.spec import resolve
    from symbptt.verify.claims import check_claims

    root = check_output_folder(args.output)  # a device, a FIFO or a file as -o: refused before any work
    specs = [resolve(name) for name in (args.specs or ["rnn-bptt"])]  # all validated before writing
    for spec in specs:
        check_claims(spec)
    if args.pdf:
        from symbptt.latex.compile import find_engine

        find_engine()  # --pdf without TeX: the error comes before anything is written
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        from symbptt.errors import UsageError

        raise UsageError(f"two specs share the name {next(n for n in names if names.count(n) > 1)!r}", "build")
    most = MAX_SPECS_WITH_PDF if _compiles(args.pdf) else MAX_SPECS
    if len(specs) > most:
        from symbptt.errors import UsageError

        with_pdf = " with PDFs (or more with --no-pdf)" if most == MAX_SPECS_WITH_PDF else ""
        raise UsageError(f"{len(specs)} specs in one run; at most {most}{with_pdf}: build the rest in another run", "build")
    progress = _Progress()
    results = []
    claims_time = ClaimsTime(CLAIMS_SECONDS)
    # Every file is written into a staging folder inside -o and moved into place only
    # when every spec is built: an error, a full disk or a signal leaves -o as it was.
    with Staging(root) as stage:
        try:
            for spec in specs:
                folder = output_folder(stage.path, spec.name)
                results.append(build_spec(spec, folder, args.pdf, lambda what, name=spec.name: progress(name, what),
                                          claims_time))  # fmt: skip
        except SymbpttError as error:  # name the file where it was going, not the staging folder
            raise type(error)(error.what, stage.final_name(error.where or "")) from None
        finally:
            progress.done()
        text = summary(results, stage.path)
        stage.publish()
    return text, 0 if all(item.ok for item in results) else 1
