"""The chat layer's loops are uvloop's on Linux (issue 14: a fifth of a click's CPU was asyncio's own loop)."""

import asyncio
import sys

import pytest

from chat import loops


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop has no Windows build")
def test_the_callback_and_websocket_loops_are_uvloop():
    import uvloop

    loop = loops.new_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_a_thread_given_a_loop_runs_the_drivers_coroutines_on_it():
    loop = loops.use_new_loop_here()
    try:
        assert asyncio.get_event_loop() is loop
        assert loop.run_until_complete(asyncio.sleep(0, result="ran")) == "ran"
    finally:
        asyncio.set_event_loop(None)
        loop.close()
