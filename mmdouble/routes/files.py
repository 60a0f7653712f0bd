"""File upload (multipart), download and file info."""
from aiohttp import web

from ..errors import AppError
from ..transport import RULES, current_user, json_response, path_id


async def upload(request):
    me = current_user(request)
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
    infos = request.app[RULES].upload_files(me["id"], channel_id, uploads)
    return json_response({"file_infos": infos, "client_ids": client_ids}, status=201)


async def download(request):
    me = current_user(request)
    data, mime_type = request.app[RULES].file_content(me["id"], path_id(request, "file_id"))
    return web.Response(body=data, headers={"Content-Type": mime_type})


async def info(request):
    me = current_user(request)
    return json_response(request.app[RULES].file_info(me["id"], path_id(request, "file_id")))


def register(router: web.UrlDispatcher):
    router.add_post("/api/v4/files", upload)
    router.add_get("/api/v4/files/{file_id}", download)
    router.add_get("/api/v4/files/{file_id}/info", info)
