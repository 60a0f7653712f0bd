"""The settings of issue 15: `[bot] log_format` and `[bot] metrics_port`."""

from __future__ import annotations

import pytest

from config.settings import SettingsError, load

BASE = {"MATTERMOST_URL": "http://127.0.0.1:8065", "MATTERMOST_TOKEN": "t"}


def settings(tmp_path, **env):
    return load(path=tmp_path / "absent.toml", environ={**BASE, **env})


def test_the_defaults_are_text_logs_and_one_port(tmp_path):
    bot = settings(tmp_path).bot
    assert bot.log_format == "text" and bot.metrics_port == 0


def test_json_logs_and_a_separate_port_from_the_file(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('[mattermost]\nurl = "http://127.0.0.1:8065"\ntoken = "t"\n[bot]\nlog_format = "json"\nmetrics_port = 9102\n')
    bot = load(path=path, environ={}).bot
    assert bot.log_format == "json" and bot.metrics_port == 9102


@pytest.mark.parametrize("env, named", [
    ({"BOT_LOG_FORMAT": "logfmt"}, "BOT_LOG_FORMAT"),
    ({"BOT_METRICS_PORT": "70000"}, "BOT_METRICS_PORT"),
    ({"BOT_METRICS_PORT": "8579", "BOT_LISTEN_PORT": "8579"}, "BOT_METRICS_PORT"),
    ({"BOT_METRICS_PORT": "nine"}, "BOT_METRICS_PORT"),
])
def test_wrong_values_name_the_setting(tmp_path, env, named):
    with pytest.raises(SettingsError, match=named):
        settings(tmp_path, **env)
