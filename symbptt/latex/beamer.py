"""How every deck looks: one document class and set of Beamer templates for all of them.

The lecture's RNN (documents.py), a cell's lecture (cell_documents.py) and the gradient-flow
lecture (gradient_flow.py) are taught side by side, so they must look the same: 16:9, 11 pt,
serif maths, no navigation symbols, the frame number in the footline.
"""

from __future__ import annotations

DECK_CLASS = (
    r"\documentclass[11pt,aspectratio=169]{beamer}",
    r"\usefonttheme[onlymath]{serif}",
    r"\setbeamertemplate{navigation symbols}{}",
    r"\setbeamertemplate{footline}[frame number]",
    r"\setbeamertemplate{itemize items}[circle]",
)
