"""A double running in another process, seeded and inspected over its `/_double` API.

It offers the seeding (mmdouble.seeding.Seeding) and inspection methods of
`MattermostDouble`, so the same test and benchmark code can drive a double in this process
or one with its own interpreter (which keeps the double's work off the simulated clients'
GIL in benchmarks).
"""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from .seeding import Seeding


class RemoteDouble(Seeding):
    def __init__(self, url: str, process: subprocess.Popen | None = None):
        self.url = url.rstrip("/")
        self._process = process
        self._http = httpx.Client(base_url=self.url + "/_double", timeout=30)

    @classmethod
    def spawn(cls, port: int) -> "RemoteDouble":
        """`python -m mmdouble` on loopback, waiting until it answers."""
        process = subprocess.Popen([sys.executable, "-m", "mmdouble", "--host", "127.0.0.1", "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        remote = cls(f"http://127.0.0.1:{port}", process)
        for _ in range(100):
            try:
                remote._http.get("/config")
                return remote
            except httpx.HTTPError:
                time.sleep(0.05)
        process.kill()
        raise RuntimeError("the double did not start")

    @property
    def pid(self) -> int:
        return self._process.pid if self._process else 0

    def _post(self, path: str, **body):
        answer = self._http.post(path, json=body)
        answer.raise_for_status()
        return answer.json()

    def _get(self, path: str, **params):
        answer = self._http.get(path, params=params)
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return answer.json()

    def _seed(self, path: str, **args) -> dict:
        return self._post("/" + path, **args)

    def set_config(self, **values):
        return self._post("/config", **values)

    def posts_in(self, channel_id):
        return self._get(f"/channels/{channel_id}/posts")

    def get_post(self, post_id):
        return self._get(f"/posts/{post_id}")

    def channel_by_name(self, team_id, name):
        return self._get(f"/teams/{team_id}/channels/{name}")

    def api_calls(self, token: str) -> int:
        return self._get("/api_calls", token=token)["calls"]

    def stop(self):
        self._http.close()
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
