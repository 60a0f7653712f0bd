"""File upload (multipart), download and file info."""
import mimetypes
import os

from aiohttp import web

from .. import shapes
from ..app import STATE, current_user, json_response, path_id
from ..errors import AppError, forbidden
from ..ids import new_id, now_ms


def _mime(name: str) -> str:
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return mime + "; charset=utf-8" if mime.startswith("text/") else mime


async def upload(request):
    me = current_user(request)
    state = request.app[STATE]
    channel_id = request.query.get("channel_id", "")
    uploads, client_ids = [], []
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if part.name == "channel_id":
                channel_id = (await part.text()).strip()
            elif part.name == "client_ids":
                client_ids.append((await part.text()).strip())
            elif part.name == "files":
                uploads.append((part.filename or "file", await part.read()))
    else:
        uploads.append((request.query.get("filename", "file"), await request.read()))
    if not uploads:
        raise AppError(400, "api.file.upload_file.incorrect_number_of_files.app_error")
    with state.lock:
        if not (state.is_member(channel_id, me["id"]) or state.is_sysadmin(me["id"])):
            raise forbidden(me["id"], "upload_file")
        infos = []
        for name, data in uploads:
            info = {"id": new_id(), "user_id": me["id"], "channel_id": channel_id, "create_at": now_ms(),
                    "name": name, "extension": os.path.splitext(name)[1].lstrip(".").lower(),
                    "size": len(data), "mime_type": _mime(name)}
            state.files[info["id"]] = {"info": info, "data": data}
            infos.append(shapes.file_info_json(info))
        return json_response({"file_infos": infos, "client_ids": client_ids}, status=201)


def _readable_file(request):
    me = current_user(request)
    state = request.app[STATE]
    fid = path_id(request, "file_id")
    f = state.files.get(fid)
    if f is None:
        raise AppError(404, "app.file_info.get.app_error")
    cid = f["info"]["channel_id"]
    if f["info"]["user_id"] != me["id"] and not (state.is_member(cid, me["id"]) or state.is_sysadmin(me["id"])):
        raise forbidden(me["id"], "read_channel")
    return f


async def download(request):
    f = _readable_file(request)
    return web.Response(body=f["data"], headers={"Content-Type": f["info"]["mime_type"]})


async def info(request):
    return json_response(shapes.file_info_json(_readable_file(request)["info"]))


def register(router: web.UrlDispatcher):
    router.add_post("/api/v4/files", upload)
    router.add_get("/api/v4/files/{file_id}", download)
    router.add_get("/api/v4/files/{file_id}/info", info)
