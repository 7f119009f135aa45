"""Checking hand derivations written in LaTeX.

The syntax layer (``grammar.lark``, :mod:`.ast`, :mod:`.parser`) reads the
lecture's LaTeX subset into a small syntax tree without evaluating anything;
the semantics layer maps that tree to SymPy through a whitelist of node types.
"""
