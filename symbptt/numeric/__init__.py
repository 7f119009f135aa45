"""Numbers: the independent oracle and the checks that use it.

The symbolic engine's exported code is only trusted once it agrees with numbers
computed without it. ``reference`` is a plain NumPy BPTT written straight from
the lecture's formulas (NOTATION.md), and ``finite_differences`` checks that
oracle itself against the definition of a derivative. Neither imports SymPy or
anything symbolic, so a mistake in the derivation cannot leak into its own test.
"""
