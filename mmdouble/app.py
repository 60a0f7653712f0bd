"""The aiohttp application: the middleware every route shares, the websocket hub and the routes."""
import logging

from aiohttp import web

from .config import server_version
from .errors import AppError
from .ids import new_id
from .routes import actions, channels, commands, control, files, posts, system, teams, users
from .rules import Rules
from .transport import HUB, REQUEST_ID, RULES, TOKEN, json_response, token_from
from .websocket import Hub

log = logging.getLogger("mmdouble")


@web.middleware
async def mattermost_middleware(request: web.Request, handler):
    request_id = new_id()
    request[REQUEST_ID] = request_id
    request[TOKEN] = token_from(request)
    if request[TOKEN]:
        request.app[RULES].count_call(request[TOKEN])
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
        resp.headers["X-Version-Id"] = server_version()
        if request.method == "GET" and request.path.startswith("/api/v4"):
            resp.headers.setdefault("Expires", "0")
    return resp


def build_app(rules: Rules) -> web.Application:
    app = web.Application(middlewares=[mattermost_middleware], client_max_size=110 * 1024 * 1024)
    app[RULES] = rules
    app[HUB] = Hub(rules)
    rules.events = app[HUB]
    app.router.add_get("/api/v4/websocket", app[HUB].handle)
    app.router.add_get("/api/v4/websocket/", app[HUB].handle)
    for module in (users, teams, channels, posts, commands, actions, files, system, control):
        module.register(app.router)
    return app
