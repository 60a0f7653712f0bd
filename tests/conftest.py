"""Shared test configuration.

Storage tests run on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set
(`.ci/run` sets it). End-to-end tests start the bot as its own process against the
Mattermost test double.
"""

import os

# the `mm_double` fixture: a Mattermost test double per test
pytest_plugins = ["mmdouble.pytest_plugin"]

# A developer's own settings must never leak into a test run.
for _name in list(os.environ):
    if _name.startswith(("MATTERMOST_", "BOT_", "TELEMETRY_", "SETTINGS_FILE")):
        del os.environ[_name]


def pytest_report_header(config):
    url = os.environ.get("TEST_DATABASE_URL")
    return f"database: SQLite{' and ' + url.split('@')[-1] if url else ' only (set TEST_DATABASE_URL for PostgreSQL)'}"
