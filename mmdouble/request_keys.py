"""Typed keys for what the middleware stores on each request (aiohttp warns on plain strings)."""

from aiohttp import web

REQUEST_ID = web.RequestKey("request_id", str)
TOKEN = web.RequestKey("mm_token", object)
