"""Cells as equations: a recurrent cell given by its equations, read into a step graph.

``ops`` is the one table of operations (shape, element form, numeric forms, reverse
rule, Jacobian, printing); ``equations`` reads the LaTeX equations with our own
grammar; ``graph`` builds and checks the per-step graph everything else derives from.
"""
