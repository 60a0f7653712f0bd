"""Act as one person on a running double from a terminal: try the bot without Mattermost.

    python -m mmdouble.console --token demoalicetoken00000000000a

Type a slash command (`/incident start DB down`) or a message; `:go <channel>` switches channel,
`:click N` clicks button N of what was shown, `:react N <emoji>` reacts to message N, `:quit`.
When the bot opens a dialog, the console asks for each field.
"""

from __future__ import annotations

import argparse
import json
import threading
import time

from .testing import SimUser


class Console:
    def __init__(self, url: str, token: str, channel: str):
        self.user = SimUser(url, token)
        self.team = self.user.driver.teams.get_user_teams(self.user.id)[0]
        self.buttons: list[tuple[str, dict]] = []  # (post id, action)
        self.posts: list[str] = []
        self.dialogs: list[dict] = []
        self.names: dict[str, str] = {}
        self.lock = threading.Lock()
        self.go(channel)
        threading.Thread(target=self.watch, daemon=True).start()

    def go(self, name: str) -> None:
        self.channel = self.user.driver.channels.get_channel_by_name(self.team["id"], name)
        print(f"-- in ~{self.channel['name']} as @{self.user.me['username']}")

    def username(self, user_id: str) -> str:
        if user_id not in self.names:
            try:
                self.names[user_id] = self.user.driver.users.get_user(user_id)["username"]
            except Exception:
                self.names[user_id] = "someone"
        return self.names[user_id]

    def show(self, post: dict, how: str) -> None:
        with self.lock:
            self.posts.append(post["id"])
            number = len(self.posts)
        author = "you" if post.get("user_id") == self.user.id else "@" + self.username(post.get("user_id", ""))
        print(f"\n[{number}] {how} {author}: {post.get('message', '')}")
        for attachment in (post.get("props") or {}).get("attachments") or []:
            for line in filter(None, (attachment.get("title"), attachment.get("text"))):
                print("     " + line.replace("\n", "\n     "))
            for action in attachment.get("actions") or []:
                with self.lock:
                    self.buttons.append((post["id"], action))
                    print(f"     ({len(self.buttons)}) [{action['name']}]")

    def watch(self) -> None:
        seen = 0
        while True:
            time.sleep(0.1)
            events = self.user.events[seen:]
            seen += len(events)
            for event in events:
                data = event.get("data", {})
                if event["event"] in ("posted", "ephemeral_message", "post_edited"):
                    post = data["post"]
                    if post.get("channel_id") == self.channel["id"] or event["event"] == "ephemeral_message":
                        self.show(post, {"posted": "", "ephemeral_message": "(only you)", "post_edited": "(edited)"}[event["event"]])
                elif event["event"] == "open_dialog":
                    self.dialogs.append(data["dialog"])
                    print("\n-- the bot opened a dialog: press Enter to fill it in")

    def fill_dialog(self, dialog: dict) -> None:
        inner = dialog["dialog"]
        print(f"== {inner.get('title')} (empty answer keeps the default)")
        answers = {}
        for element in inner.get("elements", []):
            options = element.get("options") or []
            hint = " / ".join(o["value"] for o in options)
            if element.get("data_source") == "users":
                hint = "a username"
            value = input(f"{element['display_name']}{' [' + hint + ']' if hint else ''} ({element.get('default', '')}): ").strip()
            if value and element.get("data_source") == "users":
                try:  # the web app's picker submits the chosen user's id
                    value = self.user.pick_user(value)
                except LookupError as exc:
                    print(f"-- {exc}")
                    value = ""
            answers[element["name"]] = value or element.get("default", "")
        status, body = self.user.submit_dialog(dialog, answers, channel_id=self.channel["id"], team_id=self.team["id"])
        print(f"-- submitted: {status} {json.dumps(body) if body else ''}")

    def run(self) -> None:
        while True:
            line = input("> ").strip()
            if self.dialogs:
                self.fill_dialog(self.dialogs.pop(0))
                continue
            if not line:
                continue
            if line == ":quit":
                return
            if line.startswith(":go "):
                self.go(line[4:].strip().lstrip("~"))
            elif line.startswith(":click "):
                post_id, action = self.buttons[int(line.split()[1]) - 1]
                status, body = self.user.click(post_id, action["id"], cookie=action.get("cookie"))
                print(f"-- clicked: {status}")
            elif line.startswith(":react "):
                _, number, emoji = line.split()
                self.user.react(self.posts[int(number) - 1], emoji.strip(":"))
            elif line.startswith("/"):
                answer = self.user.run_command(self.channel["id"], line)
                if answer.get("text"):
                    print(answer["text"])
            else:
                self.user.post(self.channel["id"], line)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mmdouble.console", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8065")
    parser.add_argument("--token", required=True, help="the person's token (the demo prints them)")
    parser.add_argument("--channel", default="town-square")
    args = parser.parse_args()
    try:
        Console(args.url, args.token, args.channel).run()
    except (EOFError, KeyboardInterrupt):
        print()


if __name__ == "__main__":
    main()
