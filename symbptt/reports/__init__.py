"""What the checks found, for people: verify's verdicts as text and JSON, with each side of a
claim re-printed in the lecture's LaTeX.

This sits above both ``verify`` and ``latex``: it reads verify's typed claims and prints
them with the lecture's printer, so that neither of those two packages imports the other.
"""
