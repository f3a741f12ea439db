"""``<data-dir>/state.json``: what ``cryptohub up`` runs, for ``cryptohub status``."""

import contextlib
import os
from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import msgspec

__all__ = ["Endpoint", "Process", "State", "mask_url", "read_state", "remove_state", "write_state"]

STATE_FILE = "state.json"


class Endpoint(msgspec.Struct, frozen=True, kw_only=True):
    """NATS or PostgreSQL: embedded (with a pid) or external (``pid`` is ``None``)."""

    url: str
    pid: int | None = None
    monitor_url: str | None = None
    data_dir: str | None = None


class Process(msgspec.Struct, frozen=True, kw_only=True):
    """A supervised child: the replay server or a service."""

    name: str
    pid: int | None
    port: int | None = None
    restarts: int = 0


class State(msgspec.Struct, frozen=True, kw_only=True):
    """Everything ``cryptohub up`` started; URLs are stored with passwords masked."""

    pid: int
    started_at: datetime
    mode: Literal["live", "replay"]
    data_dir: str
    nats: Endpoint
    postgres: Endpoint
    replay: Process | None = None
    services: list[Process] = msgspec.field(default_factory=list)


def state_path(data_dir: Path) -> Path:
    """Where the state of ``data_dir`` lives."""
    return data_dir / STATE_FILE


def write_state(data_dir: Path, state: State) -> None:
    """Replace the state file atomically."""
    path = state_path(data_dir)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(msgspec.json.format(msgspec.json.encode(state)))
    os.replace(tmp, path)


def read_state(data_dir: Path) -> State | None:
    """The state file of ``data_dir``, or ``None`` when there is none or it is unreadable."""
    try:
        return msgspec.json.decode(state_path(data_dir).read_bytes(), type=State)
    except (OSError, msgspec.ValidationError, msgspec.DecodeError):
        return None


def remove_state(data_dir: Path) -> None:
    """Delete the state file if it exists."""
    with contextlib.suppress(FileNotFoundError):
        state_path(data_dir).unlink()


def mask_url(url: str) -> str:
    """``url`` (or a comma-separated list of URLs) with passwords replaced by ``***``."""
    return ",".join(_mask_one(part) for part in url.split(","))


def _mask_one(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
