"""Settings: the file, the environment over it, and a clear error for every mistake."""

import pytest

from config.settings import SettingsError, load

BASE = {"MATTERMOST_URL": "https://chat.example.com", "MATTERMOST_TOKEN": "tok-123"}


def test_environment_alone_is_enough(tmp_path):
    settings = load(tmp_path / "absent.toml", BASE)
    assert settings.mattermost.url == "https://chat.example.com"
    assert settings.database.url == ""  # SQLite by default
    assert settings.callback_base_url == "http://127.0.0.1:8579"


def test_environment_overrides_the_file(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('[mattermost]\nurl = "https://file.example.com"\ntoken = "t"\n[bot]\nlisten_port = 9000\n')
    settings = load(path, {"BOT_LISTEN_PORT": "9100", "BOT_PUBLIC_URL": "https://bot.example.com/"})
    assert settings.mattermost.url == "https://file.example.com"
    assert settings.bot.listen_port == 9100
    assert settings.callback_base_url == "https://bot.example.com"


def test_the_example_file_is_complete_and_valid(tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "settings.example.toml"
    settings = load(example, {})
    assert settings.mattermost.url


@pytest.mark.parametrize(
    "file_text, env, named",
    [
        ("", {}, "MATTERMOST_URL"),
        ("", {"MATTERMOST_URL": "ftp://x"}, "MATTERMOST_URL"),
        ("", {"MATTERMOST_URL": "https://x:99999"}, "MATTERMOST_URL"),
        ("", {**BASE, "MATTERMOST_TOKEN": ""}, "MATTERMOST_TOKEN"),
        ("", {**BASE, "BOT_LISTEN_PORT": "abc"}, "BOT_LISTEN_PORT"),
        ("", {**BASE, "BOT_LISTEN_PORT": "0"}, "BOT_LISTEN_PORT"),
        ("", {**BASE, "BOT_LOG_LEVEL": "LOUD"}, "BOT_LOG_LEVEL"),
        ("", {**BASE, "BOT_TRIGGER_EMOJI": ":siren:"}, "BOT_TRIGGER_EMOJI"),
        ("", {**BASE, "BOT_PUBLIC_URL": "bot:8579"}, "BOT_PUBLIC_URL"),
        ("", {**BASE, "TELEMETRY_ENABLED": "perhaps"}, "TELEMETRY_ENABLED"),
        ("", {**BASE, "DATABASE_URL": "mysql://db"}, "DATABASE_URL"),
        ("[mattermost]\nurl = 5\n", {}, "[mattermost] url"),
        ("[bot]\nlisten_port = true\n", BASE, "[bot] listen_port"),
        ("[mattermost]\nurl = \"https://x\"\ntoken=\"t\"\nwebhook = 1\n", {}, "webhook"),
        ("[chat]\nurl = 1\n", BASE, "[chat]"),
        ("this is not toml", BASE, "not valid TOML"),
    ],
)
def test_each_mistake_names_the_setting(tmp_path, file_text, env, named):
    path = tmp_path / "settings.toml"
    path.write_text(file_text)
    with pytest.raises(SettingsError) as error:
        load(path, env)
    message = str(error.value)
    assert named in message
    assert "\n" not in message


def test_secrets_never_show(tmp_path):
    settings = load(tmp_path / "absent.toml", {**BASE, "MATTERMOST_TOKEN": "s3cr3t-token", "BOT_SIGNING_SECRET": "s3cr3t-sign"})
    assert "s3cr3t" not in repr(settings)


def test_a_directory_instead_of_a_file(tmp_path):
    with pytest.raises(SettingsError, match="directory"):
        load(tmp_path, BASE)
