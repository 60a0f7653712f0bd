"""Whatever an operator gets wrong, the bot stops at once with one line naming the fix."""

import pytest

from tests.e2e.harness import build_world, free_port, run_bot_once


def only_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.mark.parametrize(
    "env, names",
    [
        ({}, "MATTERMOST_URL"),
        ({"MATTERMOST_URL": "chat.example.com"}, "MATTERMOST_URL"),
        ({"MATTERMOST_URL": "http://127.0.0.1:1"}, "MATTERMOST_TOKEN"),
        ({"MATTERMOST_URL": "http://127.0.0.1:1", "MATTERMOST_TOKEN": "t", "BOT_LISTEN_PORT": "eighty"}, "BOT_LISTEN_PORT"),
        ({"MATTERMOST_URL": "http://127.0.0.1:1", "MATTERMOST_TOKEN": "t", "MATTERMOST_VERIFY_TLS": "maybe"}, "MATTERMOST_VERIFY_TLS"),
        ({"MATTERMOST_URL": "http://127.0.0.1:1", "MATTERMOST_TOKEN": "t", "DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ],
)
def test_bad_settings_exit_2_naming_the_setting(env, names, tmp_path):
    result = run_bot_once({"SETTINGS_FILE": str(tmp_path / "none.toml"), **env})
    assert result.returncode == 2
    assert names in only_line(result)


def test_unknown_key_in_the_settings_file(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('[mattermost]\nurl = "http://127.0.0.1:1"\ntoken = "secret-token-value"\ncolour = "blue"\n')
    result = run_bot_once({"SETTINGS_FILE": str(path)})
    assert result.returncode == 2
    line = only_line(result)
    assert "colour" in line and "secret-token-value" not in line


def test_a_token_the_server_refuses(double, tmp_path):
    build_world(double)
    result = run_bot_once({"SETTINGS_FILE": str(tmp_path / "none.toml"), "MATTERMOST_URL": double.url,
                           "MATTERMOST_TOKEN": "wrong-token-value", "DATABASE_SQLITE_PATH": str(tmp_path / "db.sqlite3")})
    assert result.returncode == 2
    line = only_line(result)
    assert "MATTERMOST_TOKEN" in line and "wrong-token-value" not in line


def test_a_bot_without_the_system_admin_role(double, tmp_path):
    world = build_world(double, bot_roles="system_user")
    result = run_bot_once({"SETTINGS_FILE": str(tmp_path / "none.toml"), "MATTERMOST_URL": double.url,
                           "MATTERMOST_TOKEN": world.bot_token, "DATABASE_SQLITE_PATH": str(tmp_path / "db.sqlite3")})
    assert result.returncode == 2
    assert "system_admin" in only_line(result)


def test_custom_slash_commands_disabled(double, tmp_path):
    world = build_world(double)
    double.set_config(EnableCommands=False)
    result = run_bot_once({"SETTINGS_FILE": str(tmp_path / "none.toml"), "MATTERMOST_URL": double.url,
                           "MATTERMOST_TOKEN": world.bot_token, "BOT_LISTEN_PORT": str(free_port()),
                           "DATABASE_SQLITE_PATH": str(tmp_path / "db.sqlite3")})
    assert result.returncode == 2
    assert "EnableCommands" in only_line(result)


def test_a_callback_url_the_server_cannot_reach(double, tmp_path):
    world = build_world(double)
    result = run_bot_once({"SETTINGS_FILE": str(tmp_path / "none.toml"), "MATTERMOST_URL": double.url,
                           "MATTERMOST_TOKEN": world.bot_token, "BOT_LISTEN_PORT": str(free_port()),
                           "BOT_PUBLIC_URL": f"http://127.0.0.1:{free_port()}",
                           "DATABASE_SQLITE_PATH": str(tmp_path / "db.sqlite3")})
    assert result.returncode == 2
    line = only_line(result)
    assert "BOT_PUBLIC_URL" in line and "AllowedUntrustedInternalConnections" in line


def test_mattermost_not_answering_is_retried_then_reported(tmp_path):
    result = run_bot_once({"SETTINGS_FILE": str(tmp_path / "none.toml"), "MATTERMOST_URL": f"http://127.0.0.1:{free_port()}",
                           "MATTERMOST_TOKEN": "t", "DATABASE_SQLITE_PATH": str(tmp_path / "db.sqlite3"),
                           "BOT_STARTUP_ATTEMPTS": "2"}, timeout=60)
    assert result.returncode == 1
    assert "MATTERMOST_URL" in only_line(result)
    assert "retrying" in result.stdout
