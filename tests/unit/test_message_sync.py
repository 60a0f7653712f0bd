"""The checklist message follows the database: bursts coalesce, the last render is the newest."""

from __future__ import annotations

import threading
import time

from flows.message_sync import MessageSync
from flows.locks import IncidentLocks


class Message:
    """An incident's stored version and the version its message shows."""

    def __init__(self, slow: float = 0.0):
        self.stored = 0
        self.shown: list[int] = []
        self.slow = slow
        self.publishing = threading.Event()

    def change(self) -> None:
        self.stored += 1

    def publish(self, incident_id: int) -> None:
        seen = self.stored  # read, then render and patch: the slow part
        self.publishing.set()
        time.sleep(self.slow)
        self.shown.append(seen)


def settled(sync: MessageSync, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not sync.idle and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # the last publish, picked just now, finishing
    assert sync.idle


def test_a_waiting_change_returns_once_the_message_shows_it():
    message = Message(slow=0.05)
    sync = MessageSync(message.publish, race_window=0)
    try:
        message.change()
        sync.changed(1, wait=True)
        assert message.shown == [1]
    finally:
        sync.stop()


def test_a_burst_of_changes_is_one_or_two_publishes_and_ends_on_the_newest():
    message = Message(slow=0.05)
    sync = MessageSync(message.publish, race_window=0)
    try:
        message.change()
        sync.changed(1)
        message.publishing.wait(2)
        for _ in range(20):  # all while the first publish runs
            message.change()
            sync.changed(1)
        settled(sync)
        assert message.shown == [1, 21]
    finally:
        sync.stop()


def test_many_people_waiting_on_one_incident_share_a_publish():
    message = Message(slow=0.05)
    sync = MessageSync(message.publish, race_window=0)
    try:
        def someone_ticks():
            message.change()
            sync.changed(1, wait=True)

        people = [threading.Thread(target=someone_ticks) for _ in range(10)]
        for person in people:
            person.start()
        for person in people:
            person.join()
        assert message.shown[-1] == 10
        assert len(message.shown) < 10
    finally:
        sync.stop()


def test_a_click_answered_right_after_another_change_is_published_again_after_settling():
    message = Message()
    sync = MessageSync(message.publish, race_window=5, settle=0.2)
    try:
        message.change()
        sync.answered(1)  # its answer carried the message: nothing to publish
        time.sleep(0.1)
        assert message.shown == []
        message.change()
        sync.answered(1)  # a second answer close behind may overtake the first in Mattermost
        settled(sync)
        assert message.shown == [2]
    finally:
        sync.stop()


def test_a_lone_click_costs_no_publish():
    message = Message()
    sync = MessageSync(message.publish, race_window=5, settle=0.05)
    try:
        message.change()
        sync.answered(1)
        time.sleep(0.2)
        assert message.shown == []
    finally:
        sync.stop()


def test_a_failing_publish_does_not_stop_the_worker():
    shown = []

    def publish(incident_id):
        if incident_id == 1:
            raise RuntimeError("Mattermost is down")
        shown.append(incident_id)

    sync = MessageSync(publish, race_window=0)
    try:
        sync.changed(1, wait=True)
        sync.changed(2, wait=True)
        assert shown == [2]
    finally:
        sync.stop()


def test_quiet_incidents_are_forgotten():
    sync = MessageSync(lambda incident_id: None, race_window=0.05)
    try:
        for incident_id in range(50):
            sync.changed(incident_id, wait=True)
        time.sleep(0.1)
        sync.changed(99, wait=True)
        assert set(sync._marked) <= {99} and set(sync._last_change) <= {99}
    finally:
        sync.stop()


def test_incident_locks_are_dropped_when_nobody_holds_them(db):
    locks = IncidentLocks()
    with locks.hold(1):
        with locks.hold(1):  # re-entrant
            assert len(locks) == 1
        with locks.hold(2):
            assert len(locks) == 2
    assert len(locks) == 0


def test_two_commands_close_together_need_no_second_publish():
    """Only a click's answer travels outside the worker; commands' patches are in order already."""
    message = Message()
    sync = MessageSync(message.publish, race_window=5, settle=0.05)
    try:
        message.change()
        sync.changed(1, wait=True)
        message.change()
        sync.changed(1, wait=True)
        time.sleep(0.2)
        assert message.shown == [1, 2]
    finally:
        sync.stop()


def test_clicks_that_keep_coming_while_a_publish_runs_are_published_once_more_at_the_end():
    # the worker is woken only for follow-ups it has not seen: those that arrive while one is
    # pending or running must still be published once it is done
    message = Message(slow=0.15)
    sync = MessageSync(message.publish, race_window=5, settle=0.05)
    try:
        for _ in range(2):
            message.change()
            sync.answered(1)
        assert message.publishing.wait(2)  # the settling publish is running
        for _ in range(5):
            message.change()
            sync.answered(1)
            time.sleep(0.02)
        settled(sync)
        time.sleep(0.2)  # the last publish, slower than settled() waits for
        assert message.shown[-1] == message.stored == 7
    finally:
        sync.stop()


def test_a_stream_of_clicks_is_published_when_it_pauses_and_at_least_every_longest_settle():
    message = Message()
    sync = MessageSync(message.publish, race_window=5, settle=0.1, longest_settle=0.4)
    try:
        started = time.monotonic()
        while time.monotonic() - started < 1.0:  # a click every 30 ms: never a 100 ms pause
            message.change()
            sync.answered(1)
            time.sleep(0.03)
        during = len(message.shown)
        settled(sync)
        assert 1 <= during <= 3  # one per 0.4 s, not one per 0.1 s
        assert message.shown[-1] == message.stored
    finally:
        sync.stop()


def test_a_change_marked_again_before_its_publish_is_published_with_the_newest_state():
    message = Message(slow=0.1)
    sync = MessageSync(message.publish, race_window=0)
    try:
        message.change()
        sync.changed(1)
        assert message.publishing.wait(2)
        message.change()
        sync.changed(1)  # due again while the first publish runs: the worker must take it
        message.change()
        sync.changed(1)  # already due: nobody needs waking, and it is not lost
        settled(sync)
        time.sleep(0.2)  # the last publish, slower than settled() waits for
        assert message.shown[-1] == message.stored == 3
    finally:
        sync.stop()
