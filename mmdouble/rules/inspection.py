"""What tests and benchmarks look at, with no permission checks: the records as stored."""
import copy

from .. import shapes
from .base import locked
from .records import RecordRules


class InspectionRules(RecordRules):
    @locked
    def posts_in(self, channel_id, include_integration=False) -> list[dict]:
        """Live posts of a channel, oldest first (with action integrations, if asked)."""
        posts = [self._store.posts[p] for p in self._store.channel_ids.get(channel_id, [])]
        if include_integration:
            return [copy.deepcopy(p) for p in posts]
        return [self._post_out(p) for p in posts]

    @locked
    def stored_post(self, post_id, include_integration=False) -> dict | None:
        """A post even if deleted; None if there never was one."""
        p = self._store.posts.get(post_id)
        if p is None:
            return None
        return copy.deepcopy(p) if include_integration else self._post_out(p)

    @locked
    def stored_channel(self, channel_id) -> dict | None:
        c = self._store.channels.get(channel_id)
        return dict(c) if c else None

    @locked
    def stored_channel_by_name(self, team_id, name) -> dict | None:
        return next((dict(c) for c in self._store.channels.values()
                     if c["team_id"] == team_id and c["name"] == name), None)

    @locked
    def channel_member_ids(self, channel_id) -> list[str]:
        return list(self._store.channel_members.get(channel_id, {}))

    @locked
    def user_by_name(self, username) -> dict | None:
        uid = self._store.usernames.get(username)
        return shapes.user_json(self._store.users[uid], is_self=True) if uid else None

    @locked
    def commands(self, team_id=None) -> list[dict]:
        return [shapes.command_json(c) for c in self._store.commands.values()
                if not c["delete_at"] and (team_id is None or c["team_id"] == team_id)]
