"""`portal-admin`: operations from a shell. Exit codes: 0 ok, 1 unhealthy or failed, 2 usage error."""

from __future__ import annotations

import argparse
import json
import logging
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _health(_args: argparse.Namespace) -> int:
    from services.health import check_all

    report = check_all()
    print(json.dumps(report, indent=2))
    return EXIT_OK if report["status"] == "ok" else EXIT_FAILED


def _seed(_args: argparse.Namespace) -> int:
    from services import seed

    seed.run()
    print("demo data loaded")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal-admin", description="Operate the portal from a shell.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("health", help="check database, job queue and Redis; exit 1 when unhealthy").set_defaults(
        handler=_health)
    commands.add_parser("seed", help="load the demo data (idempotent)").set_defaults(handler=_seed)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
