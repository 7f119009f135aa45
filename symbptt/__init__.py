"""symbptt: backpropagation through time derived symbolically, the way a lecture does.

The package is a one-way pipeline (see docs/ARCHITECTURE.md):
model → calculus / bptt → Derivation → latex | numeric | verify → cli.
Importing ``symbptt`` is cheap; SymPy is imported by the modules that need it.
"""

__version__ = "0.1.0"
