"""pytest fixtures: `mm_double`, a started MattermostDouble per test."""
import pytest

from .server import MattermostDouble


@pytest.fixture
def mm_double():
    double = MattermostDouble(host="127.0.0.1", port=0).start_in_thread()
    try:
        yield double
    finally:
        double.stop()
