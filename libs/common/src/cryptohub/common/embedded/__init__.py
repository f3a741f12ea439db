"""Embedded NATS and PostgreSQL run as child processes, for `cryptohub up` and tests."""

from cryptohub.common.embedded.errors import EmbeddedServerError
from cryptohub.common.embedded.nats import EmbeddedNats
from cryptohub.common.embedded.ports import free_port, port_accepts, reserve_port, wait_for_port
from cryptohub.common.embedded.postgres import EmbeddedPostgres

__all__ = [
    "EmbeddedNats",
    "EmbeddedPostgres",
    "EmbeddedServerError",
    "free_port",
    "port_accepts",
    "reserve_port",
    "wait_for_port",
]
