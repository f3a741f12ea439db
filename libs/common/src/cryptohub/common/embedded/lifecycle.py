"""The lifecycle both embedded servers share: pid, stop, kill, restart, context manager."""

import logging
import signal
from abc import ABC, abstractmethod
from types import TracebackType
from typing import ClassVar, Self

from cryptohub.common.embedded.process import ServerProcess

log = logging.getLogger(__name__)


class ManagedServer(ABC):
    """A server run as our child process; subclasses say how to start it and how it stops."""

    label: ClassVar[str]
    stop_signal: ClassVar[signal.Signals]
    default_stop_timeout: ClassVar[float]

    port: int
    _process: ServerProcess | None

    @abstractmethod
    def start(self) -> Self:
        """Start the server and wait until it is ready."""

    @property
    def pid(self) -> int | None:
        """The server's pid while it runs."""
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.running

    def stop(self, timeout: float | None = None) -> None:
        """Ask the server to stop, wait up to ``timeout`` s, then SIGKILL its process group."""
        if self._process is not None:
            self._process.stop(self.stop_signal, timeout or self.default_stop_timeout)
            log.info("embedded %s on port %s stopped", self.label, self.port)

    def kill(self) -> None:
        """SIGKILL the server: a crash, for failure drills."""
        if self._process is not None:
            self._process.kill()
            log.info("embedded %s on port %s killed", self.label, self.port)

    def restart(self) -> Self:
        """Stop (if running) and start again on the same port with the same data."""
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
