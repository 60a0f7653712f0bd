"""What the HTTP routes, the middleware and the websocket endpoint share: the typed keys,
JSON responses, who is calling, ids from the URL, JSON bodies and paging parameters."""
import json

from aiohttp import web

from .errors import AppError, bad_url_param
from .ids import is_valid_id

RULES = web.AppKey("rules", object)
HUB = web.AppKey("hub", object)
# What the middleware stores on each request (aiohttp warns on plain string keys).
REQUEST_ID = web.RequestKey("request_id", str)
TOKEN = web.RequestKey("mm_token", object)


def json_response(obj, status=200) -> web.Response:
    # The drivers compare Content-Type with "application/json" literally, so no charset.
    body = json.dumps(obj, ensure_ascii=False).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})


def ok() -> web.Response:
    return json_response({"status": "OK"})


def token_from(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    for scheme in ("bearer ", "token "):
        if auth.lower().startswith(scheme):
            return auth[len(scheme):].strip()
    return request.cookies.get("MMAUTHTOKEN")


def current_user(request: web.Request) -> dict:
    token = request.get(TOKEN)
    user = request.app[RULES].user_by_token(token) if token else None
    if user is None:
        raise AppError(401, "api.context.session_expired.app_error",
                       "token=" + token if token else "UserRequired")
    return user


def path_id(request: web.Request, key: str, label: str | None = None) -> str:
    value = request.match_info[key]
    if value == "me" and key == "user_id":
        return current_user(request)["id"]
    if not is_valid_id(value):
        raise bad_url_param(label or key)
    return value


async def read_json(request: web.Request, name: str, default=None):
    raw = await request.read()
    if not raw:
        if default is not None:
            return default
        raise AppError(400, "api.context.invalid_body_param.app_error", name=name)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise AppError(400, "api.context.invalid_body_param.app_error", str(exc), name=name)


def int_param(request: web.Request, name: str, default: int) -> int:
    """A query parameter as the server parses it: anything unparsable is the default."""
    try:
        return int(request.query.get(name, default))
    except ValueError:
        return default


def paging(request: web.Request) -> tuple[int, int]:
    """(page, per_page): per_page defaults to 60 and is capped at 200."""
    page = max(0, int_param(request, "page", 0))
    per_page = int_param(request, "per_page", 60)
    return page, 60 if per_page <= 0 else min(per_page, 200)
