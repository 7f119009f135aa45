"""Checking hand derivations written in LaTeX: ``symbptt verify``.

A pipeline of small passes, each with its own tests:

* syntax — ``grammar.lark``, :mod:`.ast`, :mod:`.parser`: the lecture's LaTeX
  subset read into a syntax tree, nothing evaluated, nothing dropped;
* meaning — :mod:`.semantics` maps that tree, through a whitelist of node types,
  to the typed form of :mod:`.ir` (model quantities, free variables, index roles,
  total or step-local derivatives);
* :mod:`.limits` refuses what is too large before anything is expanded;
* :mod:`.shapes` gives every piece its shape in the lecture's layout;
* :mod:`.symbolic` proves element-level steps with SymPy (δ contraction, σ');
* :mod:`.network` and :mod:`.evaluate` give both sides numbers at a random
  network (forward-mode derivatives of the definitions), :mod:`.search` looks
  for a disagreement;
* :mod:`.check` decides the verdicts; :mod:`symbptt.reports` prints them (text, JSON)
  and re-prints what was read in the lecture's LaTeX (it sits above verify and latex).
"""
