"""One module per command: each turns parsed arguments into the text to print.

They return text and never print or exit themselves; ``symbptt.cli`` does that.
"""
