"""What the double says it is (version, config hash) and the configuration it starts with."""

VERSION = "5.37.0"
CONFIG_HASH = "7ced5e0ed79b116bf58ffe00e720903c"

DEFAULT_CONFIG = {
    "EnableCommands": True,
    # Tests run integrations on loopback, so allow it unless told otherwise.
    "AllowedUntrustedInternalConnections": "127.0.0.1/8 ::1 localhost",
    "TriggerLifetimeSeconds": 3.0,
    "OutgoingIntegrationRequestsTimeout": 30.0,
    "DiagnosticsEnabled": False,
    "DiagnosticId": "",
    "EnablePostUsernameOverride": True,
    "EnablePostIconOverride": True,
    "MaxPostSize": 16383,
    "WebsocketHeartbeatSeconds": 30.0,
    "SiteURL": "",
    "ShowEmailAddress": True,  # PrivacySettings; the server's default
}


def server_version() -> str:
    """As the server sends it in X-Version-Id and the websocket hello."""
    return f"{VERSION}..{CONFIG_HASH}.false"
