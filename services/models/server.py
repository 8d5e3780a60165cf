"""The pool of machines instances run on: Docker engines and Coolify servers, with what each can hold.

What is placed on a server is counted on its own row (`allocated_*`), changed in the same conditional UPDATE that
places an instance there, so two placements racing for the last slot cannot both win and a placement decision
reads fifty rows, not ten thousand instances (services/capacity/placement.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from services.models.base import created_field

SERVER_STATES = ("active", "draining", "down")


class Server(SQLModel, table=True):
    __tablename__ = "server"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    backend: str = Field(default="docker", max_length=20)  # docker | coolify
    # docker: unix:///path, tcp://host:2376 (TLS from tls_dir) or ssh://user@host; "" for the default socket.
    # coolify: the server's uuid in Coolify.
    address: str = Field(default="", max_length=300)
    tls_dir: str | None = Field(default=None, max_length=300)  # ca.pem, cert.pem, key.pem (DOCKER_CERT_PATH layout)
    # where the edge reaches the ports instances publish on this server (its address on the private network)
    publish_host: str = Field(default="127.0.0.1", max_length=100)
    region: str = Field(default="", max_length=40)
    # capacity; None: not declared, learned from the engine by the minute's watch (memory, CPUs) or unlimited
    memory_mb: int | None = None
    millicpus: int | None = None
    max_instances: int | None = None
    state: str = Field(default="active", max_length=20, index=True)  # active | draining | down
    allocated_memory_mb: int = 0
    allocated_millicpus: int = 0
    allocated_instances: int = 0
    down_since: datetime | None = None
    last_seen_at: datetime | None = None
    created_at: datetime = created_field()
