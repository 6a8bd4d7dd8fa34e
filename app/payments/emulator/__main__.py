"""`python -m app.payments.emulator --host 127.0.0.1 --port 12111
[--webhook-url URL --webhook-secret whsec_...] [--state-file PATH]`

Prints "listening on http://host:port" once it accepts connections.
"""
from __future__ import annotations

import argparse
import re
import secrets
import signal
import sys
import threading
from pathlib import Path

from app.payments.emulator import build, start, stop
from app.payments.emulator.serving import Server


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app.payments.emulator",
                                     description="A local Stripe-compatible API for development and tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument("--webhook-url", help="where every event is posted, signed with --webhook-secret")
    parser.add_argument("--webhook-secret", help="whsec_...; one is made up (and printed) when omitted")
    parser.add_argument("--webhook-retry-base-seconds", type=float, default=5.0,
                        help="a failed delivery is retried after base * 2**attempt seconds")
    parser.add_argument("--webhook-max-attempts", type=int, default=8)
    parser.add_argument("--state-file", type=Path, help="JSON snapshot kept across restarts")
    parser.add_argument("--allow-raw-card-data", action="store_true",
                        help="accept card numbers sent with a secret key (Stripe refuses them by default)")
    args = parser.parse_args(argv)
    if args.webhook_secret and not re.fullmatch(r"whsec_[A-Za-z0-9_]{8,200}", args.webhook_secret):
        parser.error("--webhook-secret must look like whsec_...")
    if args.webhook_retry_base_seconds < 0 or args.webhook_max_attempts < 1:
        parser.error("the retry base must be >= 0 and the attempts >= 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    secret = args.webhook_secret
    if args.webhook_url and not secret:
        secret = "whsec_" + secrets.token_hex(24)
        print(f"webhook secret: {secret}", flush=True)
    emulator = build(args.webhook_url, secret, args.state_file, args.webhook_retry_base_seconds,
                     args.webhook_max_attempts, args.allow_raw_card_data)
    server = Server(args.host, args.port, emulator)
    start(emulator)

    def shut_down(signum, frame) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    print(f"listening on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        stop(emulator)
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
