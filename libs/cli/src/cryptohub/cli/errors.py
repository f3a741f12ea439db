"""Errors of the cryptohub command line."""

from collections.abc import Sequence

__all__ = ["AlreadyRunningError", "CliError", "UnknownServiceError"]


class CliError(Exception):
    """A command cannot go on; ``exit_code`` is what the process should return."""

    exit_code = 1


class UnknownServiceError(CliError):
    """A service name that no installed distribution declares."""

    exit_code = 2

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = list(known)
        listing = ", ".join(self.known) if self.known else "none installed"
        super().__init__(f"unknown service {name!r}; known services: {listing}")


class AlreadyRunningError(CliError):
    """``cryptohub up`` already runs on this data directory."""

    def __init__(self, pid: int, data_dir: str) -> None:
        self.pid = pid
        self.data_dir = data_dir
        super().__init__(f"cryptohub up already runs on {data_dir} (pid {pid})")
