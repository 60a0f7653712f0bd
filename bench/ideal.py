"""The ideal integration: the floor any out-of-process bot has on the same Mattermost.

    python bench/ideal.py --mattermost http://127.0.0.1:8065 --port 9000

A slash command is answered by opening a dialog; a click on a checklist button by returning
the toggled message, from memory. No database, no signing, no checks. The benchmark
(bench/incident_bench.py) registers it as `/ideal` beside the bot and runs both, interleaved,
so each of the bot's figures can be printed as a ratio to this one.

Its message has the shape of the bot's checklist message (a title "(done/total)", one button
per item whose context carries the state the click asks for), so the benchmark waits for and
checks both the same way.
"""

from __future__ import annotations

import argparse

from aiohttp import ClientSession, web

DIALOG = {"callback_id": "ideal", "title": "Start an incident", "submit_label": "Start",
          "elements": [{"display_name": "Name", "name": "name", "type": "text"},
                       {"display_name": "Severity", "name": "severity", "type": "select",
                        "options": [{"text": f"SEV{n}", "value": str(n)} for n in range(1, 5)]}]}


def message(checked: list[bool], action_url: str) -> dict:
    """The checklist message for these item states; button i carries {"item": i, "checked": wanted}."""
    done = sum(checked)
    actions = [{"id": f"tick{index}", "name": f"{'☑' if state else '☐'} 1.{index + 1} step {index + 1}", "type": "button",
                "integration": {"url": action_url, "context": {"item": index, "items": len(checked), "checked": not state}}}
               for index, state in enumerate(checked)]
    lines = [f"1.{index + 1} {'~~step~~' if state else 'step'} {index + 1}" for index, state in enumerate(checked)]
    return {"message": "#### Checklist for the ideal incident",
            "props": {"attachments": [{"title": f"Checklist ({done}/{len(checked)})", "text": "\n".join(lines), "actions": actions},
                                      {"text": f"Progress {done}/{len(checked)}", "actions": []}]}}


def app(mattermost_url: str, public_url: str) -> web.Application:
    states: dict[str, list[bool]] = {}  # post id -> item states
    toggles = [0]

    async def session_up(application: web.Application):
        application["http"] = ClientSession()  # one keep-alive connection pool to Mattermost
        yield
        await application["http"].close()

    async def command(request: web.Request) -> web.Response:
        form = await request.post()
        async with request.app["http"].post(mattermost_url + "/api/v4/actions/dialogs/open",
                                            json={"trigger_id": form.get("trigger_id"), "url": public_url + "/dialog",
                                                  "dialog": DIALOG}) as answer:
            await answer.read()
        return web.json_response({})

    async def action(request: web.Request) -> web.Response:
        body = await request.json()
        context = body["context"]
        checked = states.setdefault(body["post_id"], [False] * int(context["items"]))
        checked[int(context["item"])] ^= True
        toggles[0] += 1
        return web.json_response({"update": message(checked, public_url + "/action")})

    async def counted(request: web.Request) -> web.Response:
        return web.json_response({"toggles": toggles[0]})

    application = web.Application()
    application.cleanup_ctx.append(session_up)
    application.router.add_post("/command", command)
    application.router.add_post("/action", action)
    application.router.add_get("/toggles", counted)
    return application


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mattermost", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(app(args.mattermost.rstrip("/"), f"http://127.0.0.1:{args.port}"), host="127.0.0.1", port=args.port,
                print=None, access_log=None)


if __name__ == "__main__":
    main()
