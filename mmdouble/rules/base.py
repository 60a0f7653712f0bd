"""What every rule needs: the store under its lock, lookups that fail like the server, and
the permission predicates.

Public methods of the rules are `@locked` (or hold the lock in a `with` block) and return
copies; methods whose names start with `_` expect the caller to hold the lock already.
"""
import functools

from ..errors import AppError, forbidden
from ..store import Store
from ..triggers import TriggerIds


def locked(method):
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)
    return run


class _NoListeners:
    """Events before a websocket hub is attached (or without one) go nowhere."""

    def publish(self, event, data, **broadcast):
        pass

    def has_listeners(self) -> bool:
        return False


class RulesBase:
    def __init__(self, store: Store):
        self._store = store
        self._lock = store.lock
        self._triggers = TriggerIds()
        self.events = _NoListeners()

    def _publish(self, event, data, **broadcast):
        self.events.publish(event, data, **broadcast)

    # ------------------------------------------------------------------ lookups
    def _user(self, user_id) -> dict:
        u = self._store.users.get(user_id)
        if u is None:
            raise AppError(404, "app.user.missing_account.const", f"resource: User id: {user_id}")
        return u

    def _team(self, team_id) -> dict:
        t = self._store.teams.get(team_id)
        if t is None:
            raise AppError(404, "app.team.get.find.app_error", f"resource: Team id: {team_id}")
        return t

    def _channel(self, channel_id) -> dict:
        c = self._store.channels.get(channel_id)
        if c is None:
            raise AppError(404, "app.channel.get.existing.app_error", f"resource: Channel id: {channel_id}")
        return c

    def _post(self, post_id) -> dict:
        p = self._store.posts.get(post_id)
        if p is None or p.get("delete_at"):
            raise AppError(404, "app.post.get.app_error", f"resource: Post id: {post_id}")
        return p

    # ------------------------------------------------------------------ permissions
    def _is_sysadmin(self, user_id) -> bool:
        u = self._store.users.get(user_id)
        return bool(u and "system_admin" in u["roles"].split())

    def _is_team_member(self, team_id, user_id) -> bool:
        return user_id in self._store.team_members.get(team_id, {})

    def _is_team_admin(self, team_id, user_id) -> bool:
        m = self._store.team_members.get(team_id, {}).get(user_id)
        return bool(m and m.get("admin")) or self._is_sysadmin(user_id)

    def _is_member(self, channel_id, user_id) -> bool:
        return user_id in self._store.channel_members.get(channel_id, {})

    def _require_view_team(self, team_id, user_id):
        if not (self._is_team_member(team_id, user_id) or self._is_sysadmin(user_id)):
            raise forbidden(user_id, "view_team")

    def _require_read_channel(self, channel_id, user_id):
        """read_channel as the server checks it for posts and actions: members only."""
        if not (self._is_member(channel_id, user_id) or self._is_sysadmin(user_id)):
            raise forbidden(user_id, "read_channel")

    # Post permissions under Mattermost 5.37's default roles (server model/role.go MakeDefaultRoles and
    # utils/authorization.go SetRolePermissionsFromConfig): channel_user holds create_post, edit_post and
    # delete_post; team_admin holds delete_post and delete_others_posts; system_admin holds everything
    # (edit_others_posts only there). team_user and system_user hold none of them, not create_post_public.
    _CHANNEL_USER_POST_PERMISSIONS = frozenset({"create_post", "edit_post", "delete_post"})
    _TEAM_ADMIN_POST_PERMISSIONS = frozenset({"delete_post", "delete_others_posts"})

    def _has_post_permission(self, chan, user_id, permission) -> bool:
        """`permission` in `chan` resolved as app/authorization.go SessionHasPermissionToChannel does:
        channel roles, then the channel's team roles, then system roles.  Membership of an archived
        channel still counts (the server reads members including deleted channels)."""
        if self._is_sysadmin(user_id):
            return True
        if permission in self._CHANNEL_USER_POST_PERMISSIONS and self._is_member(chan["id"], user_id):
            return True
        if permission in self._TEAM_ADMIN_POST_PERMISSIONS and chan["team_id"]:
            member = self._store.team_members.get(chan["team_id"], {}).get(user_id)
            return bool(member and member.get("admin"))
        return False

    def _can_view_channel(self, chan, user_id) -> bool:
        """GET /channels/{id}: public channels are readable by team members too."""
        if self._is_member(chan["id"], user_id) or self._is_sysadmin(user_id):
            return True
        return chan["type"] == "O" and self._is_team_member(chan["team_id"], user_id)

    def _viewable_channel(self, channel_id, user_id) -> dict:
        chan = self._store.channels.get(channel_id)
        if chan is None or not self._can_view_channel(chan, user_id):
            raise forbidden(user_id, "read_channel")
        return chan
