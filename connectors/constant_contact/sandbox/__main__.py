"""python -m connectors.constant_contact.sandbox --port 8765 --seed 300 --app ID:SECRET ..."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from .server import Sandbox


def _app(value: str) -> tuple[str, str]:
    client_id, sep, secret = value.partition(":")
    if not sep or not client_id or not secret:
        raise argparse.ArgumentTypeError("expected CLIENT_ID:CLIENT_SECRET")
    return client_id, secret


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.constant_contact.sandbox",
        description="A local Constant Contact V3 API sandbox.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=300, help="number of sample contacts")
    parser.add_argument(
        "--rate-limit", type=float, default=4.0, help="requests/s per API key; 0 = off"
    )
    parser.add_argument(
        "--sliding-window",
        action="store_true",
        help="throttle on any sliding second (strict) instead of a burst/refill bucket",
    )
    parser.add_argument(
        "--daily-quota", type=int, default=10_000, help="requests/day per API key; 0 = off"
    )
    parser.add_argument(
        "--error-rate", type=float, default=0.0, help="fraction of calls answered 500/503"
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each API call")
    parser.add_argument(
        "--token-lifetime", type=int, default=86_400, help="access token lifetime, seconds"
    )
    parser.add_argument("--rng-seed", type=int, default=1)
    parser.add_argument(
        "--app",
        type=_app,
        action="append",
        default=[],
        metavar="CLIENT_ID:CLIENT_SECRET",
        help="register an app (repeatable)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sandbox = Sandbox(
        host=args.host,
        port=args.port,
        seed=args.seed,
        rate_limit=args.rate_limit,
        error_rate=args.error_rate,
        latency=args.latency,
        token_lifetime=args.token_lifetime,
        rng_seed=args.rng_seed,
        apps=args.app,
        daily_quota=args.daily_quota,
        sliding_window=args.sliding_window,
    )
    sandbox.start()
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(
        f"Constant Contact sandbox on {sandbox.url} (API {sandbox.api_base_url}, "
        f"token {sandbox.token_url}); apps: {', '.join(a for a, _ in args.app) or 'none'}",
        flush=True,
    )
    stopped.wait()
    sandbox.stop()
    print("sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
