"""`portal-admin`: operations from a shell.

Exit codes scripts can rely on: 0 done (or queued), 1 failed or unhealthy, 2 usage error, 3 no such instance/action.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable

from sqlmodel import col, select

from services import seed, worker
from services.admin.servers_cli import add_commands as add_server_commands
from services.api.tokens import issue_api_token
from services.db import session_scope
from services.errors import ValidationFailed
from services.health import check_all
from services.models import Instance, Organization, ProvisioningAction, User
from services.models.base import key
from services.provisioning import engine
from services.provisioning.backends.docker import DockerBackend
from services.provisioning.demo_image import build
from services.provisioning.errors import ProvisioningError
from services.provisioning.operations import cleanup_deprovisioned, edge_summary, instance_stats, regenerate_proxy
from services.provisioning.reconcile import reconcile, resume_interrupted
from services.tenancy.orgs import owner_user

QUEUE = worker.huey  # importing services.worker registers every domain's tasks before anything is queued

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND = 0, 1, 2, 3


def _health(_args: argparse.Namespace) -> int:
    report = check_all()
    print(json.dumps(report, indent=2))
    return EXIT_OK if report["status"] == "ok" else EXIT_FAILED


def _seed(_args: argparse.Namespace) -> int:
    seed.run()
    print("demo data loaded")
    return EXIT_OK


def _sync(_args: argparse.Namespace) -> int:
    with session_scope() as session:
        resumed = resume_interrupted(session)
        findings = reconcile(session)
    for finding in findings:
        print(finding)
    print(f"{len(findings)} instances checked, {resumed} interrupted actions resumed")
    return EXIT_FAILED if any(f.outcome == "flagged" for f in findings) else EXIT_OK


def _proxy(_args: argparse.Namespace) -> int:
    with session_scope() as session:
        count = regenerate_proxy(session)
    print(f"proxy configuration regenerated for {count} instances")
    print(edge_summary())
    return EXIT_OK


def _stats(_args: argparse.Namespace) -> int:
    with session_scope() as session:
        rows = instance_stats(session)
    for row in rows:
        cpu = "-" if row.cpu_percent is None else f"{row.cpu_percent}%"
        memory = "-" if row.memory_mb is None else f"{row.memory_mb} MB"
        print(f"{row.subdomain:32} {row.status:14} {row.observed:12} cpu {cpu:>8} mem {memory:>10}")
    return EXIT_OK


def _cleanup(_args: argparse.Namespace) -> int:
    with session_scope() as session:
        cleaned = cleanup_deprovisioned(session)
    print(f"cleaned up {len(cleaned)} deprovisioned instances" + (f": {', '.join(cleaned)}" if cleaned else ""))
    return EXIT_OK


def _instance_action(action: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        with session_scope() as session:
            instance = session.exec(select(Instance).where(col(Instance.subdomain) == args.subdomain)).first()
            if instance is None:
                print(f"no instance {args.subdomain!r}", file=sys.stderr)
                return EXIT_NOT_FOUND
            if args.wait:
                engine.set_scheduler(lambda _id, _delay: None)  # run here, not in the queue
            row = engine.request_action(session, instance, action, requested_by="portal-admin")
            action_id = row.id
        if not args.wait:
            print(f"{action} of {args.subdomain} queued as {action_id}")
            return EXIT_OK
        return _run_until_done(action_id)

    return run


def _run_until_done(action_id: str) -> int:
    status = engine.execute(action_id)
    while status == "retrying":
        with session_scope() as session:
            row = session.get(ProvisioningAction, action_id)
            wait = (row.next_attempt_at.timestamp() - time.time()) if row and row.next_attempt_at else 0
        time.sleep(max(0.0, wait))
        status = engine.execute(action_id)
    with session_scope() as session:
        row = session.get(ProvisioningAction, action_id)
        print(
            f"{action_id}: {status}"
            + (f" ({row.last_error})" if row and row.last_error and status != "succeeded" else "")
        )
    return EXIT_OK if status == "succeeded" else EXIT_FAILED


def _retry(args: argparse.Namespace) -> int:
    with session_scope() as session:
        if session.get(ProvisioningAction, args.action_id) is None:
            print(f"no action {args.action_id!r}", file=sys.stderr)
            return EXIT_NOT_FOUND
        try:
            engine.retry_parked(session, args.action_id, requested_by="portal-admin")
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_FAILED
    print(f"{args.action_id} queued again")
    return EXIT_OK


def _demo_image(_args: argparse.Namespace) -> int:
    try:
        with DockerBackend()._client() as client:
            print(f"image {build(client)} is ready")
    except (ProvisioningError, FileNotFoundError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _api_token(args: argparse.Namespace) -> int:
    """A platform API token for an organization, acting for its owner (or --user), printed once."""
    with session_scope() as session:
        org = session.exec(select(Organization).where(col(Organization.slug) == args.org)).first()
        if org is None:
            print(f"no organization {args.org!r}", file=sys.stderr)
            return EXIT_NOT_FOUND
        if args.user:
            user = session.exec(select(User).where(col(User.email) == args.user.strip().lower())).first()
        else:
            user = owner_user(session, key(org))
        if user is None:
            print("no such person in that organization", file=sys.stderr)
            return EXIT_NOT_FOUND
        try:
            issued = issue_api_token(
                session,
                key(user),
                key(org),
                args.name,
                args.scopes.replace(",", " "),
                args.expires_days,
                actor_label=f"portal-admin for {user.email}",
            )
        except (ValidationFailed, PermissionError) as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_USAGE
    print(issued.token)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portal-admin",
        description="Operate the portal from a shell.",
        epilog="exit codes: 0 done or queued, 1 failed or unhealthy, 2 usage error, 3 no such instance or action",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str, handler: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    add("health", "check database, job queue and Redis; exit 1 when unhealthy", _health)
    add("seed", "load the demo data (idempotent)", _seed)
    add("sync", "compare every instance with its backend now; repair or flag differences", _sync)
    add("proxy", "regenerate the reverse-proxy configuration of every instance", _proxy)
    add("stats", "status, CPU and memory of every instance", _stats)
    add("cleanup", "remove what is left of deprovisioned instances", _cleanup)
    for action, help_text in (("provision", "provision (or repair) an instance"), ("restart", "restart an instance")):
        sub = add(action, help_text, _instance_action(action))
        sub.add_argument("subdomain")
        sub.add_argument("--wait", action="store_true", help="run now and wait for the result instead of queueing")
    add("demo-image", "build the demo app image (local/app:latest) on the Docker engine", _demo_image)
    retry = add("retry", "retry a parked provisioning action", _retry)
    retry.add_argument("action_id")
    add_server_commands(commands)
    api = commands.add_parser("api-token", help="platform API tokens").add_subparsers(dest="api_command", required=True)
    create = api.add_parser("create", help="create a token for an organization (printed once)")
    create.set_defaults(handler=_api_token)
    create.add_argument("--org", required=True, help="the organization's slug")
    create.add_argument("--scopes", required=True, help="comma- or space-separated, e.g. instances:read,usage:read")
    create.add_argument("--expires-days", type=int, default=None)
    create.add_argument("--name", default="portal-admin")
    create.add_argument("--user", default="", help="whose rights it carries (default: the organization's owner)")
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
