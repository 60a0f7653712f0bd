"""Small steps the incident stories share: start one, find its channel, read its checklist."""

from __future__ import annotations

from tests.e2e.harness import World, wait_until


def command(person, world: World, text: str, channel_id: str | None = None) -> str:
    """Type a slash command; return the text of the (ephemeral) answer."""
    answer = person.run_command(channel_id or world.town_square["id"], text)
    return (answer or {}).get("text") or ""


def channel_named(world: World, name: str) -> dict:
    channel = world.double.channel_by_name(world.team["id"], name)
    assert channel, f"no channel {name!r}"
    return channel


def start(person, world: World, args: str) -> dict:
    reply = command(person, world, f"/incident start {args}")
    assert "started in ~" in reply, reply
    channel_name = reply.split("started in ~", 1)[1].split()[0].rstrip(".")
    return channel_named(world, channel_name)


def bot_posts(world: World, channel_id: str) -> list[dict]:
    """What the bot wrote there (not the system messages Mattermost posts in its name)."""
    return [p for p in world.double.posts_in(channel_id)
            if p["user_id"] == world.bot_user["id"] and not p.get("type", "").startswith("system_")]


def checklist_post(world: World, channel_id: str) -> dict:
    posts = [p for p in bot_posts(world, channel_id) if (p.get("props") or {}).get("attachments")]
    assert posts, "no checklist message"
    return posts[0]


def checklist_text(world: World, channel_id: str) -> str:
    post = world.double.get_post(checklist_post(world, channel_id)["id"])
    return "\n".join(
        f"{a.get('title', '')}\n{a.get('text', '')}" for a in post["props"]["attachments"]
    )


def button(post: dict, label_part: str) -> dict:
    for attachment in post["props"]["attachments"]:
        for action in attachment.get("actions") or []:
            if label_part in action["name"]:
                return action
    raise AssertionError(f"no button with {label_part!r} in {[a['name'] for att in post['props']['attachments'] for a in att.get('actions') or []]}")


def wait_for_checklist(world: World, channel_id: str, text: str, timeout: float = 10) -> None:
    wait_until(lambda: text in checklist_text(world, channel_id), timeout, lambda: checklist_text(world, channel_id))
