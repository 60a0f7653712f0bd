"""The gateway's cache of Mattermost answers forgets what expired, not only once it is full."""

from __future__ import annotations

from chat import gateway


def test_answers_older_than_the_cache_lifetime_are_dropped_at_the_next_put(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(gateway.time, "monotonic", lambda: clock[0])
    cache = gateway._TTLCache(30)
    for n in range(500):  # the memberships of 500 incident channels, checked once each
        cache.put(("member", f"channel{n}", "alice"), True)
    clock[0] += 31
    cache.put(("member", "channel-new", "alice"), True)
    assert len(cache._values) == 1  # a bot running for months holds what the last 30 s asked
    assert cache.peek(("member", "channel-new", "alice")) is True


def test_a_fresh_answer_is_kept_through_the_sweep(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(gateway.time, "monotonic", lambda: clock[0])
    cache = gateway._TTLCache(30)
    cache.put(("user", "old"), {"username": "old"})
    clock[0] += 20
    cache.put(("user", "young"), {"username": "young"})
    clock[0] += 15  # old is 35 s old, young 15 s
    assert cache.get(("user", "young"), lambda: {"username": "asked again"}) == {"username": "young"}
    cache.put(("user", "other"), {})
    assert set(cache._values) == {("user", "young"), ("user", "other")}
