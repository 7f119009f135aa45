"""``symbptt build``: derive, verify, write and check — the project's main job."""

from __future__ import annotations

import sys
import time


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
    """One status line on stderr: rewritten in place on a terminal, plain lines elsewhere."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.live = stream.isatty()
        self.start = time.monotonic()

    def __call__(self, spec: str, what: str) -> None:
        line = f"[{time.monotonic() - self.start:5.1f}s] {spec}: {what}"
        if self.live:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.live:
            self.stream.write("\r\033[K")
            self.stream.flush()


def run(args):
    from pathlib import Path

    from symbptt.build import build_spec, output_folder, summary
    from symbptt.spec import resolve
    from symbptt.verify.claims import check_claims

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
    root = Path(args.output)
    progress = _Progress()
    results = []
    try:
        for spec in specs:
            folder = output_folder(root, spec.name)
            results.append(build_spec(spec, folder, args.pdf, lambda what, name=spec.name: progress(name, what)))
    finally:
        progress.done()
    text = summary(results, root)
    return text, 0 if all(item.ok for item in results) else 1
