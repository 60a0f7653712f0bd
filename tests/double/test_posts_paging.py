"""Channel history paging over a long channel, through mattermostdriver."""
from mmdouble.testing import SimUser

N = 20_000


def test_pages_newest_first_and_cursors_walk_whole_history(world):
    d = world.d
    chan = d.create_channel(world.team["id"], "big", "Big", creator_id=world.users["alice"]["id"])
    for i in range(N):
        d.create_post(chan["id"], world.users["alice"]["id"], f"m{i}")
    alice = SimUser(d.url, world.tokens["alice"], connect_websocket=False)
    get = alice.driver.client.get
    first = get(f"/channels/{chan['id']}/posts", params={"page": 0, "per_page": 200})
    assert len(first["order"]) == 200
    assert first["posts"][first["order"][0]]["message"] == f"m{N - 1}"
    assert first["next_post_id"] == ""
    last_page = get(f"/channels/{chan['id']}/posts", params={"page": N // 200 - 1, "per_page": 200})
    assert last_page["posts"][last_page["order"][-1]]["message"] == "m0"
    assert last_page["prev_post_id"] == ""
    beyond = get(f"/channels/{chan['id']}/posts", params={"page": N // 200, "per_page": 200})
    assert beyond["order"] == []

    # Walk backwards with ?before= from the newest post: every message exactly once, in order.
    seen, before = [first["posts"][first["order"][0]]["message"]], first["order"][0]
    while True:
        page = get(f"/channels/{chan['id']}/posts", params={"before": before, "per_page": 200})
        if not page["order"]:
            break
        seen.extend(page["posts"][p]["message"] for p in page["order"])
        before = page["order"][-1]
    assert seen == [f"m{i}" for i in range(N - 1, -1, -1)]

    after = get(f"/channels/{chan['id']}/posts", params={"after": last_page["order"][-1], "per_page": 3})
    assert [after["posts"][p]["message"] for p in after["order"]] == ["m3", "m2", "m1"]


def test_per_page_is_clamped_and_since_returns_changes(world):
    d = world.d
    chan = world.town
    ids = [d.create_post(chan["id"], world.users["bob"]["id"], f"x{i}")["id"] for i in range(250)]
    alice = SimUser(d.url, world.tokens["alice"], connect_websocket=False)
    page = alice.driver.client.get(f"/channels/{chan['id']}/posts", params={"per_page": 1000})
    assert len(page["order"]) == 200
    edited_since = d.get_post(ids[10])["create_at"] + 1
    alice_post = alice.post(chan["id"], "new one")
    changed = alice.driver.client.get(f"/channels/{chan['id']}/posts", params={"since": edited_since})
    assert alice_post["id"] in changed["order"] and ids[5] not in changed["order"]
