"""Outgoing HTTP calls to integrations (slash commands, buttons, dialogs).

Like the server's untrusted HTTP client, requests to reserved address ranges are
refused unless AllowedUntrustedInternalConnections covers the host.
"""
import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

USER_AGENT = "Mattermost-Bot/1.1"
FORBIDDEN_TEXT = ("address forbidden, you may need to set AllowedUntrustedInternalConnections "
                  "to allow an integration access to your internal network")
_RESERVED = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "::/128", "::1/128", "fc00::/7", "fe80::/10")]
MAX_RESPONSE_BYTES = 1024 * 1024


class IntegrationError(Exception):
    """The request never got an HTTP answer (refused, unreachable, timed out)."""


@dataclass
class Reply:
    status: int
    reason: str
    content_type: str
    body: bytes


def _allowed(host: str, allow_list: str) -> bool:
    entries = allow_list.replace(",", " ").split()
    if host in entries:
        return True
    try:
        addrs = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            addrs = {ipaddress.ip_address(info[4][0].split("%")[0])
                     for info in socket.getaddrinfo(host, None)}
        except OSError:
            return True  # unresolvable: let the request itself fail
    nets = []
    for e in entries:
        try:
            nets.append(ipaddress.ip_network(e, strict=False))
        except ValueError:
            pass
    for addr in addrs:
        if any(addr in n for n in _RESERVED) and not any(addr in n for n in nets):
            return False
    return True


async def call(url: str, *, config: dict, method="POST", json_body=None, form=None,
               headers=None) -> Reply:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise IntegrationError(f"unsupported url {url!r}")
    if not _allowed(parts.hostname, config.get("AllowedUntrustedInternalConnections") or ""):
        raise IntegrationError(FORBIDDEN_TEXT)
    hdrs = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    hdrs.update(headers or {})
    kwargs = {}
    if json_body is not None:
        kwargs["json"] = json_body
    elif form is not None:
        if method == "GET":
            kwargs["params"] = form
        else:
            kwargs["data"] = form
    timeout = aiohttp.ClientTimeout(total=float(config.get("OutgoingIntegrationRequestsTimeout") or 30))
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.request(method, url, headers=hdrs, **kwargs) as resp:
                body = await resp.content.read(MAX_RESPONSE_BYTES)
                return Reply(resp.status, resp.reason or "", resp.headers.get("Content-Type", ""), body)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise IntegrationError(str(exc) or exc.__class__.__name__) from exc
