"""The timers wake the sweep at each due time, with one scheduler job however many are ahead."""

from __future__ import annotations

import threading
import time

from flows.timers import Timers
from models.clock import now_ms


def test_the_sweep_runs_at_each_due_time_in_order_whatever_order_they_came_in():
    swept: list[int] = []
    done = threading.Event()

    def sweep() -> None:
        swept.append(now_ms())
        if len(swept) == 4:  # the sweep at start, then one per due time
            done.set()

    timers = Timers(sweep, every_seconds=3600)
    start = now_ms()
    due = [start + 300, start + 100, start + 200, start + 100]  # one of them twice
    for at in due:
        timers.wake_at(at)
    assert timers.pending_wake_ups() == 3
    timers.start()
    try:
        assert done.wait(5), swept
        time.sleep(0.3)  # no sweep more than one per due time
        assert len(swept) == 4
        for at, when in zip(sorted(set(due)), swept[1:]):
            assert when >= at
        assert timers.pending_wake_ups() == 0
    finally:
        timers.stop()


def test_reminders_far_ahead_hold_one_job_not_one_each():
    timers = Timers(lambda: None, every_seconds=3600)
    timers.start()
    try:
        hour_from_now = now_ms() + 3_600_000
        for n in range(10_000):  # an update reminder for each of 10 000 incidents started and ended
            timers.wake_at(hour_from_now + n)
        assert timers.pending_wake_ups() == 10_000
        assert len(timers._scheduler.get_jobs()) == 2  # the periodic sweep and the next wake-up
        timers.wake_at(now_ms() + 50)  # an earlier one takes the job over
        time.sleep(0.5)
        assert timers.pending_wake_ups() == 10_000 and len(timers._scheduler.get_jobs()) == 2
    finally:
        timers.stop()
