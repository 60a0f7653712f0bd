"""The chat layer's JSON: what the standard library wrote and read, faster, and a clear refusal
(ValueError, which the callback server answers with a 400) for what is not exact JSON."""
from __future__ import annotations

import json

import pytest

from chat import json_codec


def test_an_answer_is_the_same_json_as_before():
    answer = {"update": {"message": "#### Checklist for Outage — é", "props": {"attachments": [{"actions": []}]}},
              "ephemeral_text": "@\u2060alice"}
    assert json.loads(json_codec.dumps(answer)) == answer


def test_what_orjson_cannot_write_is_written_as_before():
    assert json_codec.dumps({"n": 10**30, 7: "seven"}) == json.dumps({"n": 10**30, 7: "seven"}).encode()


@pytest.mark.parametrize("body", [b'{"a": NaN}', b'{"a": "\\ud800"}', b'{"a": ', "\x00"])
def test_a_body_that_is_not_exact_json_is_a_value_error(body):
    with pytest.raises(ValueError):
        json_codec.loads(body)
