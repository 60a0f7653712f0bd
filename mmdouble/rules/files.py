"""Uploaded files and who may read them."""
import mimetypes
import os

from .. import shapes
from ..errors import AppError, forbidden
from ..ids import new_id, now_ms
from .base import RulesBase, locked


def _mime(name: str) -> str:
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return mime + "; charset=utf-8" if mime.startswith("text/") else mime


class FileRules(RulesBase):
    @locked
    def upload_files(self, me_id, channel_id, uploads: list[tuple[str, bytes]]) -> list[dict]:
        """Store (name, data) pairs as not yet attached files; returns their infos."""
        if not (self._is_member(channel_id, me_id) or self._is_sysadmin(me_id)):
            raise forbidden(me_id, "upload_file")
        infos = []
        for name, data in uploads:
            info = {"id": new_id(), "user_id": me_id, "channel_id": channel_id, "create_at": now_ms(),
                    "name": name, "extension": os.path.splitext(name)[1].lstrip(".").lower(),
                    "size": len(data), "mime_type": _mime(name)}
            self._store.files[info["id"]] = {"info": info, "data": data}
            infos.append(shapes.file_info_json(info))
        return infos

    def _readable_file(self, me_id, file_id) -> dict:
        f = self._store.files.get(file_id)
        if f is None:
            raise AppError(404, "app.file_info.get.app_error")
        cid = f["info"]["channel_id"]
        if f["info"]["user_id"] != me_id and not (self._is_member(cid, me_id) or self._is_sysadmin(me_id)):
            raise forbidden(me_id, "read_channel")
        return f

    @locked
    def file_content(self, me_id, file_id) -> tuple[bytes, str]:
        """(data, mime type) of a file."""
        f = self._readable_file(me_id, file_id)
        return f["data"], f["info"]["mime_type"]

    @locked
    def file_info(self, me_id, file_id) -> dict:
        return shapes.file_info_json(self._readable_file(me_id, file_id)["info"])
