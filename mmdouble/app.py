"""aiohttp application: headers, errors and authentication shared by every route."""
import json
import logging

from aiohttp import web

from .errors import AppError, bad_url_param
from .ids import is_valid_id, new_id
from .request_keys import REQUEST_ID, TOKEN
from .triggers import TriggerIds
from .websocket import Hub

log = logging.getLogger("mmdouble")

STATE = web.AppKey("state", object)
HUB = web.AppKey("hub", object)
TRIGGERS = web.AppKey("triggers", object)


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
    user = request.app[STATE].user_by_token(token) if token else None
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


@web.middleware
async def mattermost_middleware(request: web.Request, handler):
    request_id = new_id()
    request[REQUEST_ID] = request_id
    request[TOKEN] = token_from(request)
    state = request.app[STATE]
    if request[TOKEN]:
        state.count_call(request[TOKEN])
    try:
        resp = await handler(request)
    except AppError as err:
        resp = json_response(err.body(request_id), status=err.status)
    except web.HTTPNotFound:
        if not request.path.startswith("/api/v4"):
            raise
        resp = json_response(AppError(404, "api.context.404.app_error").body(request_id), 404)
    except web.HTTPMethodNotAllowed:
        if not request.path.startswith("/api/v4"):
            raise
        resp = json_response(AppError(405, "api.context.404.app_error").body(request_id), 405)
    except web.HTTPException:
        raise
    except Exception as exc:  # a bug in the double must still answer like the server would
        log.exception("unhandled error in %s %s", request.method, request.path)
        resp = json_response(AppError(500, "api.context.unexpected.app_error", repr(exc)).body(request_id), 500)
    if isinstance(resp, web.StreamResponse) and not resp.prepared:
        resp.headers["X-Request-Id"] = request_id
        resp.headers["X-Version-Id"] = state.server_version()
        if request.method == "GET" and request.path.startswith("/api/v4"):
            resp.headers.setdefault("Expires", "0")
    return resp


def build_app(state) -> web.Application:
    from .routes import actions, channels, commands, control, files, posts, system, teams, users

    app = web.Application(middlewares=[mattermost_middleware], client_max_size=110 * 1024 * 1024)
    app[STATE] = state
    app[HUB] = Hub(state)
    app[TRIGGERS] = TriggerIds()
    app.router.add_get("/api/v4/websocket", app[HUB].handle)
    app.router.add_get("/api/v4/websocket/", app[HUB].handle)
    for module in (users, teams, channels, posts, commands, actions, files, system, control):
        module.register(app.router)
    return app
