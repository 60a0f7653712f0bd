"""Log lines: JSON for machines, text for people, ids of the request at hand, never a secret."""

from __future__ import annotations

import io
import json
import logging

import pytest

from chat.logs import JsonLines, QuietProbes, Redact, TextLines, log_ids, redact_also

TOKEN = "s3cr3t-bot-token-value-0000"


@pytest.fixture
def captured():
    """A logger writing through one handler, as bot.configure_logging sets it up."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(Redact([TOKEN, "", "short"]))
    logger = logging.getLogger("incident.test-logging")
    logger.handlers, logger.propagate, logger.level = [handler], False, logging.DEBUG
    yield logger, handler, stream
    logger.handlers, logger.propagate = [], True


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_a_json_line_has_time_level_logger_message_and_the_ids_at_hand(captured):
    logger, handler, stream = captured
    handler.setFormatter(JsonLines())
    with log_ids(team_id="t" * 26, channel_id="c" * 26, user_id=None):
        with log_ids(incident_id=7):
            logger.info("incident %s: update reminder sent", 7)
        logger.warning("outside the inner block")
    logger.info("no request here")
    first, second, third = (json.loads(line) for line in lines(stream))
    assert first.keys() == {"time", "level", "logger", "message", "team_id", "channel_id", "incident_id"}
    assert first["level"] == "INFO" and first["logger"] == "incident.test-logging"
    assert first["message"] == "incident 7: update reminder sent" and first["incident_id"] == "7"
    assert first["time"].endswith("Z") and "T" in first["time"]
    assert "incident_id" not in second and second["team_id"] == "t" * 26
    assert third.keys() == {"time", "level", "logger", "message"}


def test_an_exception_stays_inside_its_one_json_line(captured):
    logger, handler, stream = captured
    handler.setFormatter(JsonLines())
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("handler failed")
    (line,) = lines(stream)
    record = json.loads(line)
    assert record["message"] == "handler failed" and "RuntimeError: boom" in record["exception"]


def test_secrets_are_blanked_whatever_the_format(captured):
    logger, handler, stream = captured
    for formatter in (JsonLines(), TextLines()):
        handler.setFormatter(formatter)
        logger.warning("driver said: Authorization: Bearer %s", TOKEN)
        try:
            raise ValueError(f"token {TOKEN} refused")
        except ValueError:
            logger.exception("failed")
    assert TOKEN not in stream.getvalue()
    assert stream.getvalue().count("[redacted]") == 4
    assert "short" not in stream.getvalue()  # not a secret to blank: too short to tell from a word


def test_a_secret_learnt_later_is_blanked_too(captured):
    logger, handler, stream = captured
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        redact_also("signing-secret-from-the-database")
    finally:
        root.removeHandler(handler)
    logger.info("secret: signing-secret-from-the-database")
    assert lines(stream) == ["secret: [redacted]"]


def test_text_lines_carry_the_ids_after_the_message(captured):
    logger, handler, stream = captured
    handler.setFormatter(TextLines())
    with log_ids(team_id="team1", user_id="user1"):
        logger.info("answered")
    assert lines(stream)[0].endswith("incident.test-logging: answered [team_id=team1 user_id=user1]")


def test_probes_stay_out_of_the_access_log():
    quiet = QuietProbes()

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("aiohttp.access", logging.INFO, __file__, 1, message, None, None)

    assert not quiet.filter(record('127.0.0.1 "GET /readyz HTTP/1.1" 200'))
    assert not quiet.filter(record('127.0.0.1 "GET /metrics HTTP/1.1" 200'))
    assert quiet.filter(record('127.0.0.1 "POST /hooks/command HTTP/1.1" 200'))


def test_the_access_log_is_written_at_debug_only():
    from bot import configure_logging

    root, access = logging.getLogger(), logging.getLogger("aiohttp.access")
    kept = root.handlers[:], root.level, access.filters[:]
    try:
        configure_logging("INFO")
        assert not access.isEnabledFor(logging.INFO)  # aiohttp asks this before it formats a line
        configure_logging("DEBUG")
        assert access.isEnabledFor(logging.INFO)
    finally:
        root.handlers[:], access.filters[:] = kept[0], kept[2]
        root.setLevel(kept[1])
        access.setLevel(logging.NOTSET)
