"""Backends as tables, after sympy2jax: node type → target function, one table per library.

The code printer (symbptt.numeric.printing) never names a library: it asks the
table how a node is written. ``ops`` covers the matrix-level term nodes
(``Product`` → ``matmul``, ``Transpose`` → ``transpose``, ``Hadamard`` → ``mul``,
a sum over the steps → ``sum_rows`` or a stacked ``matmul``), and ``function``
maps the element-wise functions SymPy's printers and our activations ask for
(``numpy.exp``, ``numpy.tanh``, ``numpy.logaddexp``) to the library's spelling.
Adding a backend means adding a table here and its module skeleton
(``symbptt.numeric.skeleton_<name>``), not a new code path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symbptt.errors import UsageError


@dataclass(frozen=True)
class Backend:
    name: str
    imports: tuple[str, ...]  # the generated module's import lines, and nothing else
    alias: str  # how the array library is called in generated code
    ops: dict[str, str]
    renamed: dict[str, str] = field(default_factory=dict)  # numpy name → this library's

    def op(self, name: str, *args: str) -> str:
        try:
            template = self.ops[name]
        except KeyError:
            raise UsageError(f"the {self.name} backend has no rule for {name!r}", "export") from None
        return template.format(*args, m=self.alias)

    def function(self, numpy_name: str) -> str:
        return f"{self.alias}.{self.renamed.get(numpy_name, numpy_name)}"


_COMMON = {
    "matmul": "{0} @ {1}",
    "transpose": "{0}.T",
    "add": "{0} + {1}",
    "sub": "{0} - {1}",
    "mul": "{0} * {1}",
    "scale": "{0} * {1}",
    "add_into": "{0} += {1}",
    "scale_into": "{0} *= {1}",
    "assign_into": "{0}[...] = {1}",
    "softmax_column": "softmax_columns({0})",
    "softmax_rows": "softmax_rows({0})",
}

BACKENDS: dict[str, Backend] = {
    "numpy": Backend(
        name="numpy",
        imports=("import numpy as np",),
        alias="np",
        ops={
            **_COMMON,
            "sum_rows": "{0}.sum(axis=0)",
            "row_sums": "{0}.sum(axis=1)",
            "sum_columns": "{0}.sum(axis=1, keepdims=True)",
            "hstack": "{m}.hstack([{0}])",
            "matmul_into": "{m}.matmul({0}, {1}, {2})",
        },
    ),
    "jax": Backend(
        name="jax",
        imports=("import jax", "import jax.numpy as jnp", "from jax import lax"),
        alias="jnp",
        ops={
            **_COMMON,
            "sum_rows": "{0}.sum(axis=0)",
            "row_sums": "{0}.sum(axis=1)",
            "sum_columns": "{0}.sum(axis=1, keepdims=True)",
            "hstack": "{m}.hstack([{0}])",
        },
    ),
    "torch": Backend(
        name="torch",
        imports=("import torch",),
        alias="torch",
        ops={
            **_COMMON,
            "sum_rows": "{0}.sum(dim=0)",
            "row_sums": "{0}.sum(dim=1)",
            "sum_columns": "{0}.sum(dim=1, keepdim=True)",
            "hstack": "{m}.hstack([{0}])",
            "matmul_into": "{m}.matmul({0}, {1}, out={2})",
        },
    ),
}

BACKEND_NAMES = tuple(BACKENDS)


def backend(name: str) -> Backend:
    try:
        return BACKENDS[name]
    except KeyError:
        raise UsageError(f"unknown backend {name!r} (choose from {', '.join(BACKENDS)})", "--backend") from None
