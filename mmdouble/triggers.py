"""Trigger ids: what lets an integration open a dialog for a user shortly after a click.

The integration gets base64("<client id>:<user id>:<millis>:<signature>"); the
user's client only ever sees the 26-character client id.  We sign with HMAC
instead of the server's ECDSA key; the checks and error ids are the server's.
"""
import base64
import binascii
import hashlib
import hmac
import secrets
import time

from .errors import AppError
from .ids import new_id


class TriggerIds:
    def __init__(self):
        self._key = secrets.token_bytes(32)

    def _sign(self, data: str) -> str:
        return base64.b64encode(hmac.new(self._key, data.encode(), hashlib.sha256).digest()).decode()

    def mint(self, user_id: str) -> tuple[str, str]:
        """Return (client trigger id, full trigger id)."""
        client_id = new_id()
        data = f"{client_id}:{user_id}:{int(time.time() * 1000)}:"
        full = base64.b64encode((data + self._sign(data)).encode()).decode()
        return client_id, full

    def verify(self, trigger_id: str, lifetime_seconds: float) -> tuple[str, str]:
        """Return (client trigger id, user id) or raise the server's AppError."""
        try:
            decoded = base64.b64decode(trigger_id or "", validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise AppError(400, "interactive_message.decode_trigger_id.base64_decode_failed", str(exc))
        parts = decoded.split(":")
        if len(parts) != 4:
            raise AppError(400, "interactive_message.decode_trigger_id.missing_data")
        client_id, user_id, millis, signature = parts
        data = f"{client_id}:{user_id}:{millis}:"
        try:
            base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise AppError(400, "interactive_message.decode_trigger_id.signature_decode_failed", str(exc))
        if not hmac.compare_digest(signature, self._sign(data)):
            raise AppError(400, "interactive_message.decode_trigger_id.verify_signature_failed")
        try:
            issued = int(millis)
        except ValueError:
            raise AppError(400, "interactive_message.decode_trigger_id.missing_data")
        if time.time() * 1000 - issued > lifetime_seconds * 1000:
            shown = int(lifetime_seconds) if float(lifetime_seconds).is_integer() else lifetime_seconds
            raise AppError(400, "interactive_message.decode_trigger_id.expired", seconds=shown)
        return client_id, user_id
