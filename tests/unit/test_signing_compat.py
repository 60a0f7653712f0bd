"""Buttons and dialogs already out in Mattermost keep working: the signature is the same bytes
whatever way the signer computes it (HMAC-SHA256 of the kind, a newline and the sorted, compact JSON)."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from chat.signing import ForgedPayload, Signer

KEY = "k" * 32
PAYLOAD = {"callback": "tick", "incident_id": 7, "item_id": 31, "checked": True, "seen_version": 4,
           "for_user": "", "issued_at": 1700000000, "note": "ünïcode \udc80"}


def by_the_recipe(kind: bytes, payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(KEY.encode(), kind + b"\n" + canonical, hashlib.sha256).hexdigest()


def test_a_context_signed_by_an_earlier_version_still_verifies_and_is_signed_the_same_now():
    signer = Signer(KEY)
    earlier = {**PAYLOAD, "sig": by_the_recipe(b"context", PAYLOAD)}  # all 256 bits, as before issue 14
    assert signer.verify_context(earlier) == PAYLOAD
    assert signer.sign_context(PAYLOAD) == {**PAYLOAD, "sig": by_the_recipe(b"context", PAYLOAD)[:32]}  # now the first 128


def test_a_dialog_state_signed_by_an_earlier_version_still_verifies():
    signer = Signer(KEY)
    state = signer.sign_state(PAYLOAD)
    assert state.rsplit(".", 1)[1] == by_the_recipe(b"state", PAYLOAD)[:32]
    assert signer.verify_state(state) == PAYLOAD
    earlier = f"{state.rsplit('.', 1)[0]}.{by_the_recipe(b'state', PAYLOAD)}"
    assert signer.verify_state(earlier) == PAYLOAD


def test_a_signature_cut_to_any_other_length_is_forged():
    signer = Signer(KEY)
    full = by_the_recipe(b"context", PAYLOAD)
    for length in (0, 16, 31, 33, 48, 63):
        with pytest.raises(ForgedPayload):
            signer.verify_context({**PAYLOAD, "sig": full[:length]})
