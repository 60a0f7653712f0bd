"""Configuration, call counts, presence and typing, and who receives an event."""
from .base import RulesBase, locked


class SystemRules(RulesBase):
    @locked
    def count_call(self, token: str) -> None:
        self._store.calls_by_token[token] += 1

    @locked
    def api_calls(self, token: str) -> int:
        return self._store.calls_by_token[token]

    @locked
    def config(self) -> dict:
        return dict(self._store.config)

    @locked
    def set_config(self, **values) -> None:
        unknown = set(values) - set(self._store.config)
        if unknown:
            raise KeyError(f"unknown config keys: {sorted(unknown)}")
        self._store.config.update(values)

    @locked
    def audience(self, user_ids, *, user_id="", channel_id="", team_id="", omit_users=None,
                 admins=None) -> set[str]:
        """Which of the connected `user_ids` get an event so addressed (the server's ShouldSendEvent).

        `admins` True/False sends only to / only to anyone but holders of manage_system (system admins),
        as the broadcast's ContainsSensitiveData / ContainsSanitizedData flags do (app/web_conn.go).
        """
        chosen = set()
        for uid in user_ids:
            if not uid:
                continue
            if admins is not None and self._is_sysadmin(uid) != admins:
                continue
            if user_id:
                if uid != user_id:
                    continue
            elif omit_users and uid in omit_users:
                continue
            elif channel_id and not self._is_member(channel_id, uid):
                continue
            elif team_id and not self._is_team_member(team_id, uid):
                continue
            chosen.add(uid)
        return chosen

    @locked
    def announce_online(self, user_id) -> None:
        self._publish("status_change", {"status": "online", "user_id": user_id}, user_id=user_id)

    @locked
    def user_typing(self, user_id, channel_id, parent_id) -> None:
        if channel_id and self._is_member(channel_id, user_id):
            self._publish("typing", {"parent_id": parent_id, "user_id": user_id},
                          channel_id=channel_id, omit_users={user_id: True})
