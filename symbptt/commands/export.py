"""``symbptt export``: the derived gradients as a standalone NumPy, JAX or PyTorch module."""

from __future__ import annotations

BACKENDS = ("numpy", "jax", "torch")


def add_parser(commands):
    parser = commands.add_parser(
        "export",
        help="write the derived gradients as a standalone NumPy, JAX or PyTorch module",
        description="Generate a module with loss_and_grads(params, xs, ys, s0=None) and "
        "forward(params, xs, s0=None), printed from the reverse-mode program's matrix-level rules. "
        "It imports only its array library. Without -o the module goes to standard output.",
    )
    parser.add_argument("spec", nargs="?", metavar="NAME|SPEC",
                        help="a shipped derivation (see `symbptt list`) or a .toml spec; default: rnn-bptt")
    parser.add_argument("--backend", choices=BACKENDS, default="numpy", help="the array library (default: numpy)")
    parser.add_argument("--activation", choices=("sigmoid", "tanh"),
                        help="σ (logistic) or tanh (default: the spec's); only for model = \"rnn\"")
    parser.add_argument("-o", "--output", metavar="FILE.py", help="write the module here (atomically) instead of printing it")
    return parser


def run(args) -> str:
    from symbptt.commands.common import spec_and_model
    from symbptt.files import write_atomic
    from symbptt.numeric.export import ExportInfo, export_source
    from symbptt.spec import resolve

    cell_spec = resolve(args.spec)
    if cell_spec.cell is not None:
        return _export_cell(cell_spec, args)
    spec, model = spec_and_model(args)
    source = export_source(model, args.backend, ExportInfo(spec=args.spec or spec.name, title=spec.title))
    if args.output is None:
        return source
    target = write_atomic(args.output, source)
    return f"wrote {target} ({args.backend}, {model.activation.name}, {len(source.splitlines())} lines)\n"


def _export_cell(spec, args) -> str:
    """A cell given by equations: the module lowered from its step graph."""
    from symbptt.cell.export import ExportInfo, export_source
    from symbptt.cell.graph import build_graph
    from symbptt.errors import UsageError
    from symbptt.files import write_atomic

    if args.activation is not None:
        raise UsageError("a cell given by equations names its functions in its equations", "--activation")
    graph = build_graph(spec.cell, spec.dimensions)
    source = export_source(graph, args.backend, ExportInfo(spec=args.spec or spec.name, title=spec.title))
    if args.output is None:
        return source
    target = write_atomic(args.output, source)
    return f"wrote {target} ({args.backend}, cell {graph.model.name}, {len(source.splitlines())} lines)\n"
