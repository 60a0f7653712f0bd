"""Teams and team membership."""
from .. import shapes
from ..errors import AppError, forbidden
from .base import locked
from .records import RecordRules

# JoinDefaultChannels: where joining a team puts a user.
DEFAULT_CHANNELS = ("town-square", "off-topic")


class TeamRules(RecordRules):
    @locked
    def team_by_name(self, me_id, name) -> dict:
        team = next((t for t in self._store.teams.values() if t["name"] == name), None)
        if team is None:
            raise AppError(404, "app.team.get_by_name.missing.app_error", f"name={name}")
        self._require_view_team(team["id"], me_id)
        return shapes.team_json(team)

    @locked
    def get_team(self, me_id, team_id) -> dict:
        team = self._team(team_id)
        self._require_view_team(team_id, me_id)
        return shapes.team_json(team)

    @locked
    def team_members(self, me_id, team_id, page, per_page) -> list[dict]:
        self._team(team_id)
        self._require_view_team(team_id, me_id)
        members = sorted(self._store.team_members[team_id].values(), key=lambda m: m["user_id"])
        return [shapes.team_member_json(m) for m in members[page * per_page:(page + 1) * per_page]]

    @locked
    def team_member(self, me_id, team_id, user_id) -> dict:
        self._team(team_id)
        self._require_view_team(team_id, me_id)
        m = self._store.team_members[team_id].get(user_id)
        if m is None:
            raise AppError(404, "app.team.get_member.missing.app_error", f"teamId={team_id}, userId={user_id}")
        return shapes.team_member_json(m)

    @locked
    def join_team(self, me_id, team_id, user_id) -> dict:
        """POST /teams/{id}/members: `me_id` adds `user_id`, who lands in the default channels."""
        self._team(team_id)
        if not self._is_team_admin(team_id, me_id):
            raise forbidden(me_id, "add_user_to_team")
        self._user(user_id)
        already = self._is_team_member(team_id, user_id)
        member = self.add_team_member(team_id, user_id)
        if not already:
            self._publish("added_to_team", {"team_id": team_id, "user_id": user_id}, user_id=user_id)
            for chan in list(self._store.channels.values()):
                if chan["team_id"] == team_id and chan["name"] in DEFAULT_CHANNELS and not chan.get("delete_at"):
                    self._join_channel(chan, user_id, actor_id=user_id)
        return member
