"""A spec's claims read by the grammar: a claim that does not parse is a SpecError
that names the spec's file and the line of the claim.

``symbptt.spec`` checks a spec's keys and types only (it sits below ``verify``, and
``symbptt list`` must not pay for the grammar); what will verify or build a spec's
claims parses them here first, before anything is written.
"""

from __future__ import annotations

import re

from symbptt.errors import ParseError, SpecError
from symbptt.verify.parser import parse_claim


def check_claims(spec) -> None:
    """Parse every claim of ``spec``; the first that does not parse raises a SpecError."""
    for number, claim in enumerate(spec.claims):
        where = f"{spec.path}:{claim.line}" if spec.path is not None else spec.name
        try:
            parse_claim(claim.latex)
        except ParseError as error:
            position = re.search(r":(\d+):(\d+)$", error.where or "")
            if position and spec.path is not None:
                first = int(position.group(1))
                # a ''' string opened on the key's line with a newline starts on the next line
                offset = claim.line + first - (0 if claim.latex.startswith("\n") else 1)
                where = f"{spec.path}:{offset}"
            raise SpecError(f"claim {number + 1} does not parse: {error.what}", where) from None
