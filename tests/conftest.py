"""Shared fixtures: the lecture's model with symbolic and with concrete dimensions.

The whole session, and every ``symbptt`` it runs in a subprocess, keeps its on-disk
cache (``symbptt.cache``) in a temporary folder: tests write nothing outside one.
"""

import os

import pytest

from symbptt.model import RNN


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    old = os.environ.get("SYMBPTT_CACHE_DIR")
    os.environ["SYMBPTT_CACHE_DIR"] = str(tmp_path_factory.mktemp("symbptt-cache"))
    yield
    if old is None:
        os.environ.pop("SYMBPTT_CACHE_DIR", None)
    else:
        os.environ["SYMBPTT_CACHE_DIR"] = old


@pytest.fixture(params=["sigmoid", "tanh"])
def activation_name(request):
    return request.param


@pytest.fixture
def symbolic_model(activation_name):
    return RNN.create(activation_name=activation_name)
