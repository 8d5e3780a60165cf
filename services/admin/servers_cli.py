"""`portal-admin servers list|add|drain|activate|remove`: the pool from a shell, as the console's Servers tab."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from services.capacity import servers
from services.db import session_scope

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _list(_args: argparse.Namespace) -> int:
    with session_scope() as session:
        rows = servers.pool(session)
    heading = ("name", 16), ("backend", 8), ("state", 9), ("region", 8), ("instances", 11), ("memory MB", 17)
    print(" ".join(f"{label:<{width}}" for label, width in heading), f"{'load':>5}  address")
    for row in rows:
        instances = f"{row.instances}/{row.max_instances}" if row.max_instances else str(row.instances)
        memory = f"{row.memory_mb}/{row.memory_capacity_mb}" if row.memory_capacity_mb else str(row.memory_mb)
        print(
            f"{row.name:<16} {row.backend:<8} {row.state:<9} {row.region or '-':<8} {instances:<11} {memory:<17} "
            f"{row.load_percent:>4}%  {row.address}"
        )
    return EXIT_OK


def _add(args: argparse.Namespace) -> int:
    try:
        with session_scope() as session:
            server = servers.add_server(
                session,
                name=args.name,
                backend=args.backend,
                address=args.address,
                region=args.region,
                memory_mb=args.memory_mb,
                cpus=args.cpus,
                max_instances=args.max_instances,
                publish_host=args.publish_host,
                tls_dir=args.tls_dir,
            )
            print(f"server {server.name} added ({server.backend} at {server.address})")
    except servers.ServerRefused as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _drain(args: argparse.Namespace) -> int:
    from services.provisioning.moves import drain_server

    try:
        with session_scope() as session:
            moving = drain_server(session, args.name, requested_by="portal-admin")
    except servers.ServerRefused as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.name} is draining: {moving} instance(s) being moved off it")
    return EXIT_OK


def _activate(args: argparse.Namespace) -> int:
    try:
        with session_scope() as session:
            servers.activate(session, args.name)
    except servers.ServerRefused as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.name} takes new instances again")
    return EXIT_OK


def _remove(args: argparse.Namespace) -> int:
    try:
        with session_scope() as session:
            servers.remove(session, args.name)
    except servers.ServerRefused as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.name} removed from the pool")
    return EXIT_OK


def add_commands(commands: Any) -> None:
    """The `servers` command group, on portal-admin's subcommands."""
    group = commands.add_parser("servers", help="the pool of Docker engines and Coolify servers").add_subparsers(
        dest="servers_command", required=True
    )
    group.add_parser("list", help="every server with its load").set_defaults(handler=_list)
    add = group.add_parser("add", help="add a server to the pool")
    add.set_defaults(handler=_add)
    add.add_argument("name")
    add.add_argument("address", help="docker: unix:///path, tcp://host:2376 or ssh://user@host; coolify: server uuid")
    add.add_argument("--backend", default="docker", choices=servers.BACKENDS)
    add.add_argument("--region", default="")
    add.add_argument("--memory-mb", type=int, default=None, help="memory to place (default: learned from the engine)")
    add.add_argument("--cpus", type=float, default=None, help="CPUs to place (default: not limited)")
    add.add_argument("--max-instances", type=int, default=None)
    add.add_argument("--publish-host", default="127.0.0.1", help="the server's address the edge reaches ports on")
    add.add_argument("--tls-dir", default=None, help="tcp:// engines: folder with ca.pem, cert.pem, key.pem")
    for name, handler, text in (
        ("drain", _drain, "take no new instances and move the ones it holds to other servers"),
        ("activate", _activate, "take new instances again (after a drain, or once a down server is back)"),
        ("remove", _remove, "remove an empty server from the pool"),
    ):
        sub = group.add_parser(name, help=text)
        sub.set_defaults(handler=handler)
        sub.add_argument("name")
