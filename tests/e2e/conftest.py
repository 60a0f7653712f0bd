import os

import pytest

from mmdouble import MattermostDouble
from tests.e2e.harness import BotProcess, build_world

pytestmark = pytest.mark.e2e


@pytest.fixture
def double():
    server = MattermostDouble(host="127.0.0.1", port=0)
    server.start_in_thread()
    yield server
    server.stop()


@pytest.fixture
def world(double):
    return build_world(double)


@pytest.fixture
def bot(world, tmp_path):
    process = BotProcess(world, tmp_path, database_url=os.environ.get("TEST_DATABASE_URL")).start().wait_ready()
    yield process
    code = process.stop()
    assert code == 0, f"the bot exited with {code} on SIGTERM:\n{process.log()}"
    assert "Traceback" not in process.log(), process.log()


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
