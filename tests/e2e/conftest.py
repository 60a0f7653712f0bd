import pytest

from tests.e2e.harness import build_world, running_bot, serving_double

pytestmark = pytest.mark.e2e


@pytest.fixture
def double():
    yield from serving_double()


@pytest.fixture
def world(double):
    return build_world(double)


@pytest.fixture
def bot(world, tmp_path):
    yield from running_bot(world, tmp_path)


@pytest.fixture
def alice(world):
    user = world.person("alice")
    yield user
    user.close()


@pytest.fixture
def bob(world):
    user = world.person("bob")
    yield user
    user.close()


@pytest.fixture
def own_world(tmp_path):
    """A double and a folder of their own, for tests that stop, kill and start bots."""
    for server in serving_double():
        yield build_world(server), tmp_path
