"""Run a standalone double: python -m mmdouble --host 127.0.0.1 --port 8065 --demo

`--port 0` (or DEMO_PORT=0) takes any free port; the URL printed says which. For the double and
the bot together, use `python -m mmdouble.demo` (`make demo`).
"""
import argparse
import os
import signal
import sys
import threading

from .seeding import DEMO_TOKENS, seed_demo
from .server import MattermostDouble


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mmdouble", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT") or 8065))
    parser.add_argument("--demo", action="store_true", help="seed team ops with admin, alice, bob and bot incident")
    parser.add_argument("--write-env", metavar="PATH", help="write MATTERMOST_URL/MATTERMOST_TOKEN for the bot")
    parser.add_argument("--trigger-lifetime", type=float, default=3.0)
    parser.add_argument("--deny-internal", action="store_true",
                        help="emulate the production default: refuse integrations on private addresses")
    args = parser.parse_args(argv)
    config = {"AllowedUntrustedInternalConnections": ""} if args.deny_internal else {}
    d = MattermostDouble(args.host, args.port, trigger_lifetime=args.trigger_lifetime, **config)
    try:
        d.start_in_thread()
    except OSError as exc:
        print(f"mmdouble: cannot listen on {args.host}:{args.port} ({exc.strerror}); pass --port 0 for any free port",
              file=sys.stderr)
        return 2
    print(f"Mattermost double listening on {d.url}", flush=True)
    if args.demo:
        seeded = seed_demo(d)
        print(f"team ops: {seeded['team']['id']}")
        for name, user in seeded["users"].items():
            print(f"user {name:9} id={user['id']} token={DEMO_TOKENS[name]}")
        print(f"MATTERMOST_URL={d.url}\nMATTERMOST_TOKEN={DEMO_TOKENS['incident']}", flush=True)
        if args.write_env:
            with open(args.write_env, "w") as fh:
                fh.write(f"MATTERMOST_URL={d.url}\nMATTERMOST_TOKEN={DEMO_TOKENS['incident']}\n")
    elif args.write_env:
        with open(args.write_env, "w") as fh:
            fh.write(f"MATTERMOST_URL={d.url}\n")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    d.stop()


if __name__ == "__main__":
    sys.exit(main())
