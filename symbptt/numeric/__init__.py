"""Numbers: generated code for the derived gradients, and the independent oracle that checks it.

Generated code (printed from the engine's own objects, never from user text):

* ``printing`` — a SymPy ``NumPyPrinter`` subclass for element formulas and
  matrix-level terms; ``backends`` — one table per array library (NumPy, JAX,
  PyTorch) from node types to target functions;
* ``lambdify`` — element formulas, explicit tensors and the reverse-mode program
  as NumPy functions;
* ``lowering`` and ``export`` — the program's step rules split into loops and
  hoisted products, printed into a standalone module per backend
  (``skeleton_numpy``, ``skeleton_jax``, ``skeleton_torch``);
* ``check`` — generated code against the oracle and central differences.

The oracle, ``symbptt.oracle`` (at the bottom of the layers, so that ``analysis`` and
``verify`` use it too), is a plain NumPy BPTT written straight from the lecture's
formulas (docs/NOTATION.md); ``finite_differences`` holds the definition of a
derivative that checks the oracle itself. Neither imports SymPy or
anything symbolic, so a mistake in the derivation cannot leak into its own test.
"""
