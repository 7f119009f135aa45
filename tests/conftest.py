"""Shared fixtures: the lecture's model with symbolic and with concrete dimensions."""

import pytest

from symbptt.model import RNN


@pytest.fixture(params=["sigmoid", "tanh"])
def activation_name(request):
    return request.param


@pytest.fixture
def symbolic_model(activation_name):
    return RNN.create(activation_name=activation_name)
