"""Cells for the tests, written as users write them: spec text, nothing else."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from symbptt.cell.graph import build_graph
from symbptt.spec import load

# A minimal gated unit (Zhou et al., 2016), one gate f_t doing both jobs: a cell no code knows,
# in the format a user writes (tests count its lines: keep them where they are).
MINIMAL_GATED_UNIT = r"""title = "A minimal gated unit"
topic = "bptt"

[model]
name = "mgu"
input = "x"
state = ["h"]
output = "o"
loss = "cross-entropy"
equations = '''
f_t = \sigma(W_f x_t + U_f h_{t-1} + b_f)
\tilde{h}_t = \tanh(W_h x_t + U_h (f_t \odot h_{t-1}) + b_h)
h_t = (1 - f_t) \odot h_{t-1} + f_t \odot \tilde{h}_t
o_t = V h_t + c
'''

[model.parameters]
W_f = ["d", "n"]
U_f = ["d", "d"]
b_f = ["d"]
W_h = ["d", "n"]
U_h = ["d", "d"]
b_h = ["d"]
V = ["k", "d"]
c = ["k"]

[dimensions]
d = "d"
n = "n"
k = "k"
T = 3
"""

TORCH_LSTM = r"""
i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi})
f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})
g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg})
o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho})
c_t = f_t \odot c_{t-1} + i_t \odot g_t
h_t = o_t \odot \tanh(c_t)
y_t = V h_t + b_y
"""

TORCH_GRU = r"""
r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr})
z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})
m_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))
h_t = (1 - z_t) \odot m_t + z_t \odot h_{t-1}
y_t = V h_t + b_y
"""


def gate_parameters(gates: str) -> dict:
    shapes = {}
    for gate in gates:
        shapes[f"W_i{gate}"] = ["d", "n"]
        shapes[f"b_i{gate}"] = ["d"]
        shapes[f"W_h{gate}"] = ["d", "d"]
        shapes[f"b_h{gate}"] = ["d"]
    shapes["V"] = ["k", "d"]
    shapes["b_y"] = ["k"]
    return shapes


def write_spec(folder: Path, name: str, equations: str, parameters: dict, states=("h",), output="y",
               loss="cross-entropy", extra: str = "") -> Path:  # fmt: skip
    lines = [
        f'title = "{name}"',
        extra,
        "[model]",
        f'name = "{name}"',
        'input = "x"',
        "state = [" + ", ".join(f'"{state}"' for state in states) + "]",
        f'output = "{output}"',
        f'loss = "{loss}"',
        "equations = '''",
        textwrap.dedent(equations).strip(),
        "'''",
        "",
        "[model.parameters]",
        *(f"{key} = [{', '.join(repr(part).replace(chr(39), chr(34)) for part in shape)}]"
          for key, shape in parameters.items()),
    ]  # fmt: skip
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def graph_of(path: Path):
    spec = load(path)
    return build_graph(spec.cell, spec.dimensions)


def load_export(graph, backend: str = "numpy"):
    """The exported module, imported from a real file as a user would."""
    import importlib.util
    import tempfile

    from symbptt.cell.export import export_source

    folder = Path(tempfile.mkdtemp())
    path = folder / f"exported_{graph.model.name.replace('-', '_')}_{backend}.py"
    path.write_text(export_source(graph, backend), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def random_params(graph, sizes: dict, rng, scale: float = 0.7) -> dict:
    return {name: rng.normal(size=tuple(sizes.get(part, part) for part in shape)) * scale
            for name, shape in graph.model.parameters.items()}  # fmt: skip


def relative_error(ours, reference) -> float:
    ours, reference = np.asarray(ours, dtype=float), np.asarray(reference, dtype=float)
    assert ours.shape == reference.shape, (ours.shape, reference.shape)
    return float(np.abs(ours - reference).max(initial=0.0) / max(np.abs(reference).max(initial=0.0), 1e-300))
