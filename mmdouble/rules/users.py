"""Users as other users see them, their roles, teams and access tokens."""
from .. import shapes
from ..errors import AppError, forbidden
from .base import locked
from .records import RecordRules

_ROLES = ("system_user", "system_admin", "system_guest", "system_user_access_token",
          "system_post_all", "system_post_all_public")


class UserRules(RecordRules):
    @locked
    def user_by_token(self, token) -> dict | None:
        uid = self._store.tokens.get(token)
        user = self._store.users.get(uid) if uid else None
        return dict(user) if user else None

    @locked
    def get_user(self, me_id, user_id) -> dict:
        return shapes.user_json(self._user(user_id), is_self=user_id == me_id)

    @locked
    def user_by_username(self, me_id, username) -> dict:
        uid = self._store.usernames.get(username)
        if not uid:
            raise AppError(404, "app.user.get_by_username.app_error", f"resource: User id: username={username}")
        return shapes.user_json(self._store.users[uid], is_self=uid == me_id)

    @locked
    def users_by_ids(self, me_id, user_ids) -> list[dict]:
        users = self._store.users
        return [shapes.user_json(users[i], is_self=i == me_id) for i in user_ids if i in users]

    @locked
    def users_by_usernames(self, me_id, usernames) -> list[dict]:
        found = [self._store.users[self._store.usernames[n]] for n in usernames if n in self._store.usernames]
        return [shapes.user_json(u, is_self=u["id"] == me_id) for u in found]

    @locked
    def autocomplete(self, me_id, *, team_id: str, channel_id: str, name: str, limit: int) -> dict:
        """GET /users/autocomplete, which the web app's user pickers call as people type (a dialog's
        `data_source: users` select among them, with neither team nor channel: every user).

        Like server 5.37 (api4/user.go autocompleteUsers): `in_channel` needs read_channel and
        `in_team` too (else 500), and splits the team's matches into `users` (in the channel) and
        `out_of_channel`; `in_team` alone needs view_team. Matches are active users whose username,
        nickname, first or last name starts with `name`, any case; at most `limit`, by username."""
        if channel_id:
            self._require_read_channel(channel_id, me_id)
            if not team_id:
                raise AppError(500, "api.user.autocomplete_users.missing_team_id.app_error", f"channelId={channel_id}")
        if team_id:
            self._require_view_team(team_id, me_id)
        wanted = name.strip().lower().lstrip("@")

        def matches(user) -> bool:
            words = (user.get("username", ""), user.get("nickname", ""), user.get("first_name", ""), user.get("last_name", ""))
            return not user.get("delete_at") and any(w.lower().startswith(wanted) for w in words if w)

        found = sorted((u for u in self._store.users.values() if matches(u)), key=lambda u: u["username"])
        if team_id:
            found = [u for u in found if self._is_team_member(team_id, u["id"])]
        out = lambda users: [shapes.user_json(u, is_self=u["id"] == me_id) for u in users[:limit]]  # noqa: E731
        if channel_id:
            inside = [u for u in found if self._is_member(channel_id, u["id"])]
            return {"users": out(inside), "out_of_channel": out([u for u in found if u not in inside])}
        return {"users": out(found)}

    @locked
    def update_roles(self, me_id, user_id, roles: str) -> None:
        if not self._is_sysadmin(me_id):
            raise forbidden(me_id, "manage_roles")
        user = self._user(user_id)
        if any(r not in _ROLES for r in roles.split()):
            raise AppError(400, "api.user.update_user_roles.invalid")
        user["roles"] = roles
        self._publish("user_role_updated", {"roles": roles, "user_id": user_id}, user_id=user_id)

    @locked
    def user_teams(self, me_id, user_id) -> list[dict]:
        if user_id != me_id and not self._is_sysadmin(me_id):
            raise forbidden(me_id, "sysconsole_read_user_management_users")
        self._user(user_id)
        return [shapes.team_json(t) for tid, t in self._store.teams.items() if self._is_team_member(tid, user_id)]

    @locked
    def user_team_channels(self, me_id, user_id, team_id, include_deleted: bool = False) -> list[dict]:
        if user_id != me_id and not self._is_sysadmin(me_id):
            raise forbidden(me_id, "edit_other_users")
        if not self._is_team_member(team_id, user_id) and not self._is_sysadmin(me_id):
            raise forbidden(me_id, "view_team")
        return [shapes.channel_json(c) for c in self._store.channels.values()
                if (c["team_id"] in (team_id, "")) and self._is_member(c["id"], user_id)
                and (include_deleted or not c.get("delete_at"))]

    @locked
    def create_token_for(self, me_id, user_id, body) -> dict:
        if user_id != me_id and not self._is_sysadmin(me_id):
            raise forbidden(me_id, "create_user_access_token")
        return self.create_token(user_id, description=str((body or {}).get("description", "")))
