"""Signed payloads for button contexts and dialog states.

Mattermost sends button clicks and dialog submissions to the bot with no credential at all
(see the contract recordings), so anything the bot must trust travels inside the `context`
or `state` it handed out, signed with a secret only the bot knows. A request whose payload
is missing, altered, or signed with another secret is refused before any handler runs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

SIGNATURE_FIELD = "sig"
# a signature is the first 128 bits of the HMAC-SHA256, in hex: as hard to forge as a guess of a
# random 128-bit number, and half the bytes on each of a checklist's buttons (issue 14). Buttons
# and dialogs signed before carry all 256 bits and still verify.
TAG_HEX = 32
CONTEXT = b"context"
STATE = b"state"


class ForgedPayload(Exception):
    """The payload was not signed by this bot, or was changed after signing."""


# what json.dumps(payload, sort_keys=True, separators=(",", ":")) writes, with one encoder made
# once rather than one per call (every button of every render is signed: issue 14)
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _canonical(payload: dict[str, Any]) -> bytes:
    # ensure_ascii: escapes, so text from outside (lone surrogates included) always encodes
    return _CANONICAL.encode(payload).encode()


def _same(received: str, expected: str) -> bool:
    """Constant-time compare that also survives junk from outside (non-ASCII, lone surrogates)."""
    return hmac.compare_digest(received.encode("utf-8", "surrogatepass"), expected.encode())


class Signer:
    def __init__(self, secret: str | bytes):
        if not secret:
            raise ValueError("the signing secret must not be empty")
        self._key = secret.encode() if isinstance(secret, str) else secret
        self._keyed = hmac.new(self._key, digestmod=hashlib.sha256)  # copied per signature: the key is set up once

    def _mac(self, kind: bytes, payload: dict[str, Any]) -> str:
        # the kind is signed too: a dialog state (which the person's client sees) can never
        # pass as a button context, nor the other way round
        mac = self._keyed.copy()
        mac.update(kind + b"\n" + _canonical(payload))
        return mac.hexdigest()

    def _tag(self, kind: bytes, payload: dict[str, Any]) -> str:
        return self._mac(kind, payload)[:TAG_HEX]

    def _signed(self, signature: str, kind: bytes, payload: dict[str, Any]) -> bool:
        expected = self._mac(kind, payload)
        return _same(signature, expected if len(signature) == len(expected) else expected[:TAG_HEX])

    def sign_context(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A button `context`: the payload's fields plus their signature."""
        if SIGNATURE_FIELD in payload:
            raise ValueError(f"{SIGNATURE_FIELD!r} is reserved")
        return {**payload, SIGNATURE_FIELD: self._tag(CONTEXT, payload)}

    def verify_context(self, context: Any) -> dict[str, Any]:
        """The signed fields of a context that came back from Mattermost.

        Mattermost adds `selected_option` to the context of menu clicks; that field is not
        signed and is returned beside the signed ones.
        """
        if not isinstance(context, dict) or not isinstance(context.get(SIGNATURE_FIELD), str):
            raise ForgedPayload("no signature")
        received = dict(context)
        signature = received.pop(SIGNATURE_FIELD)
        selected = received.pop("selected_option", None)
        if not self._signed(signature, CONTEXT, received):
            raise ForgedPayload("bad signature")
        if selected is not None:
            received["selected_option"] = selected
        return received

    def sign_state(self, payload: dict[str, Any]) -> str:
        """A dialog `state`: an opaque string that comes back unchanged on submit."""
        body = base64.urlsafe_b64encode(_canonical(payload)).decode().rstrip("=")
        return f"{body}.{self._tag(STATE, payload)}"

    def verify_state(self, state: Any) -> dict[str, Any]:
        if not isinstance(state, str) or state.count(".") != 1:
            raise ForgedPayload("malformed state")
        body, signature = state.split(".")
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            raise ForgedPayload("malformed state") from None
        if not isinstance(payload, dict) or not self._signed(signature, STATE, payload):
            raise ForgedPayload("bad signature")
        return payload
