"""Ping, client config and roles."""
from aiohttp import web

from ..config import CONFIG_HASH, VERSION
from ..errors import AppError
from ..transport import RULES, current_user, json_response

_ROLE_PERMISSIONS = {
    "system_user": ["create_direct_channel", "create_group_channel", "create_team", "list_public_teams",
                    "join_public_teams", "view_members", "create_emojis"],
    "system_admin": ["manage_system", "manage_roles", "create_post_ephemeral", "manage_slash_commands",
                     "convert_public_channel_to_private", "convert_private_channel_to_public"],
    "team_user": ["view_team", "create_public_channel", "create_private_channel", "join_public_channels",
                  "read_public_channel", "list_team_channels", "create_post_public"],
    "team_admin": ["manage_team", "manage_slash_commands", "remove_user_from_team",
                   "convert_public_channel_to_private", "convert_private_channel_to_public"],
    "channel_user": ["read_channel", "create_post", "add_reaction", "remove_reaction", "upload_file",
                     "use_slash_commands", "manage_public_channel_members", "manage_private_channel_members",
                     "manage_public_channel_properties", "delete_public_channel", "delete_private_channel"],
    "channel_admin": ["manage_channel_roles"],
}


async def ping(request):
    return json_response({"AndroidLatestVersion": "", "AndroidMinVersion": "", "DesktopLatestVersion": "",
                          "DesktopMinVersion": "", "IosLatestVersion": "", "IosMinVersion": "",
                          "status": "OK"})


def _flag(value) -> str:
    return "true" if value else "false"


async def client_config(request):
    c = request.app[RULES].config()
    return json_response({
        "AboutLink": "https://about.mattermost.com/default-about/", "BuildDate": "", "BuildHash": "",
        "BuildHashEnterprise": "", "BuildEnterpriseReady": "false", "BuildNumber": "",
        "DiagnosticId": c["DiagnosticId"], "TelemetryId": c["DiagnosticId"],
        "DiagnosticsEnabled": _flag(c["DiagnosticsEnabled"]), "EnableDiagnostics": _flag(c["DiagnosticsEnabled"]),
        "EnableCommands": _flag(c["EnableCommands"]), "EnableBotAccountCreation": "true",
        "EnableDeveloper": "true", "EnableFile": "true", "EnableFileAttachments": "true",
        "EnableIncomingWebhooks": "true", "EnableOutgoingWebhooks": "true",
        "EnablePostIconOverride": _flag(c["EnablePostIconOverride"]),
        "EnablePostUsernameOverride": _flag(c["EnablePostUsernameOverride"]),
        "EnableReliableWebSockets": "true", "EnableUserAccessTokens": "true", "MaxFileSize": "104857600",
        "MaxPostSize": str(c["MaxPostSize"]), "SiteName": "Mattermost", "SiteURL": c["SiteURL"],
        "ShowEmailAddress": _flag(c["ShowEmailAddress"]),
        "Version": VERSION, "WebsocketPort": "80", "WebsocketSecurePort": "443", "WebsocketURL": "",
        "CollapsedThreads": "disabled", "ExperimentalTimezone": "true", "ConfigHash": CONFIG_HASH,
    })


async def role_by_name(request):
    current_user(request)
    name = request.match_info["name"]
    if name not in _ROLE_PERMISSIONS:
        raise AppError(404, "app.role.get_by_name.app_error")
    return json_response({"id": name.replace("_", "") + "0" * (26 - len(name.replace("_", ""))),
                          "name": name, "display_name": f"authentication.roles.{name}.name",
                          "description": "", "create_at": 0, "update_at": 0, "delete_at": 0,
                          "permissions": _ROLE_PERMISSIONS[name], "scheme_managed": True,
                          "built_in": True})


def register(router: web.UrlDispatcher):
    router.add_get("/api/v4/system/ping", ping)
    router.add_get("/api/v4/config/client", client_config)
    router.add_get("/api/v4/roles/name/{name}", role_by_name)
