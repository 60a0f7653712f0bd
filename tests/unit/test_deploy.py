"""deploy/ says only what the bot does: every variable it sets is a setting the bot reads, the
values pass the bot's own checks, and the probes ask /livez and /readyz on the callback port."""

from __future__ import annotations

import shlex
from dataclasses import fields
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from config.settings import SECTIONS, env_name, load

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def setting_names() -> set[str]:
    names = {env_name(section, f.name) for section, factory in SECTIONS.items() for f in fields(factory())}
    return names | {"SETTINGS_FILE"}


def check_with_the_bot(env: dict[str, str], tmp_path: Path) -> None:
    """The bot's own loader accepts these values (raises SettingsError otherwise)."""
    load(path=tmp_path / "absent.toml", environ=env)


# ---- Kubernetes ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def manifest() -> dict[str, dict]:
    documents = [d for d in yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text()) if d]
    kinds = {d["kind"]: d for d in documents}
    assert sorted(kinds) == ["Deployment", "Secret", "Service"] and len(documents) == 3
    return kinds


def container(manifest) -> dict:
    (bot,) = manifest["Deployment"]["spec"]["template"]["spec"]["containers"]
    return bot


def test_every_variable_of_the_deployment_is_a_setting_and_passes_its_checks(manifest, tmp_path):
    env = container(manifest)["env"]
    names = [item["name"] for item in env]
    assert len(names) == len(set(names))
    assert set(names) <= setting_names(), set(names) - setting_names()
    secret = manifest["Secret"]
    values = {}
    for item in env:
        if "valueFrom" in item:
            ref = item["valueFrom"]["secretKeyRef"]
            assert ref["name"] == secret["metadata"]["name"]
            values[item["name"]] = secret["stringData"][ref["key"]]
        else:
            values[item["name"]] = str(item["value"])
    assert {"MATTERMOST_TOKEN", "DATABASE_URL"} <= {i["name"] for i in env if "valueFrom" in i}  # secrets stay in the Secret
    assert set(secret["stringData"]) <= set(values)  # nothing in the Secret that nobody reads
    assert set(secret["stringData"]) <= setting_names()
    assert values["BOT_LISTEN_HOST"] == "0.0.0.0"  # beyond the pod's loopback, or the Service reaches nothing
    check_with_the_bot(values, tmp_path)


def test_probes_ask_livez_and_readyz_on_the_callback_port(manifest):
    bot = container(manifest)
    port = {p["name"]: p["containerPort"] for p in bot["ports"]}
    listen_port = next(int(i["value"]) for i in bot["env"] if i["name"] == "BOT_LISTEN_PORT")
    assert port == {"callbacks": listen_port}
    assert bot["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert bot["startupProbe"]["httpGet"]["path"] == "/livez"
    assert bot["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert bot[probe]["httpGet"]["port"] in ("callbacks", listen_port)
    # the readiness probe waits longer than the bot waits for the database (chat/health.py)
    from chat.health import DATABASE_TIMEOUT
    assert bot["readinessProbe"]["timeoutSeconds"] > DATABASE_TIMEOUT
    annotations = manifest["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] == "/metrics" and int(annotations["prometheus.io/port"]) == listen_port


def test_the_service_reaches_the_pods_callback_port(manifest):
    deployment, service = manifest["Deployment"], manifest["Service"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == "callbacks"
    public = next(i["value"] for i in container(manifest)["env"] if i["name"] == "BOT_PUBLIC_URL")
    assert urlsplit(public).hostname.split(".")[0] == service["metadata"]["name"] and urlsplit(public).port == port["port"]


# ---- systemd ------------------------------------------------------------------------------------------
def unit_entries(path: Path) -> list[tuple[str, str, str]]:
    """(section, key, value) of a systemd unit, keys repeated as systemd allows."""
    entries, section = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return entries


def env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def test_every_variable_of_the_systemd_unit_is_a_setting_and_passes_its_checks(tmp_path):
    entries = unit_entries(DEPLOY / "incident-bot.service")
    service = {key: value for section, key, value in entries if section == "Service"}
    assigned = dict(word.split("=", 1) for s, key, value in entries if s == "Service" and key == "Environment"
                    for word in shlex.split(value))
    from_file = env_file(DEPLOY / "incident-bot.env.example")
    assert set(assigned) <= setting_names(), set(assigned) - setting_names()
    assert set(from_file) <= setting_names(), set(from_file) - setting_names()
    assert "MATTERMOST_TOKEN" in from_file and "MATTERMOST_TOKEN" not in assigned  # the secret stays in the 600 file
    assert service["EnvironmentFile"] == "/etc/incident-bot/incident-bot.env"
    check_with_the_bot({**from_file, **assigned}, tmp_path)

    assert service["ExecStart"].split()[0].endswith("/incident-bot")
    readiness = next(word.rstrip(";") for word in shlex.split(service["ExecStartPost"])[-1].split() if word.startswith("http"))
    assert urlsplit(readiness).path == "/readyz" and urlsplit(readiness).port == int(assigned["BOT_LISTEN_PORT"])
    assert service["RestartPreventExitStatus"] == "2"  # bot.py: a wrong setting; restarting cannot help
    assert service["Restart"] == "on-failure"
