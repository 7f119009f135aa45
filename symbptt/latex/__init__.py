"""Printing: the lecture's LaTeX (printer, documents, figures, safe compilation) and
plain unicode text for the terminal. Everything is printed from our own objects."""
