"""Shared fixtures for the LaTeX tests."""

import pytest

from symbptt.latex.documents import Lecture
from tests.latex.helpers import make_lecture


@pytest.fixture(scope="session")
def lecture() -> Lecture:
    return make_lecture()
