"""A server binary run as a child in its own process group, its output in a log file."""

import itertools
import logging
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

__all__ = ["ServerProcess", "reap_leftovers"]

log = logging.getLogger(__name__)


class ServerProcess:
    """One child process: own session (so its whole group can be killed), output appended to a log.

    Spawn it again after it stopped to restart it with the same command line.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        cwd: Path,
        user: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.cwd = cwd
        self.user = user
        self.env = dict(env) if env is not None else None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def pid(self) -> int | None:
        """The child's pid while it runs, else ``None``."""
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        """Whether the child was spawned and has not exited."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit status of the last child once it exited."""
        return None if self._proc is None else self._proc.poll()

    def spawn(self) -> None:
        """Start the child; its stdout and stderr are appended to ``log_path``."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            out.write(f"--- cryptohub: starting {self.name}: {' '.join(self.argv)}\n".encode())
            out.flush()
            self._log_offset = out.tell()
            self._proc = subprocess.Popen(  # noqa: S603 - argv is built by our own code
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=self.env,
                user=self.user,
                start_new_session=True,
            )
        log.debug("%s started, pid %s", self.name, self._proc.pid)

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the child to exit; whether it did."""
        if self._proc is None:
            return True
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self, sig: signal.Signals, timeout: float) -> None:
        """Send ``sig`` to the child, wait up to ``timeout`` s, then SIGKILL its whole group."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            log.debug("%s: sending %s to pid %s", self.name, sig.name, proc.pid)
            proc.send_signal(sig)
            if not self.wait(timeout):
                log.warning(
                    "%s did not stop within %ss after %s; killing it", self.name, timeout, sig.name
                )
        self.kill()

    def kill(self) -> None:
        """SIGKILL the child and everything in its process group, and reap it."""
        proc = self._proc
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # the child and every process of its group are gone already
        except PermissionError:
            # The group id was recycled by a process we do not own: ours are gone.
            log.debug("%s: process group %s is not ours any more", self.name, proc.pid)
        proc.wait()

    def log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines the current (or last) child wrote."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(self._log_offset)
                data = f.read()
        except OSError:
            return ""
        return "\n".join(data.decode(errors="replace").splitlines()[-lines:])


def reap_leftovers(exe_name: str, flag: str, value: Path, *, sig: signal.Signals) -> None:
    """Stop processes named ``exe_name`` whose command line holds ``flag value``.

    A server left behind by a process that was killed before it could stop it
    would otherwise hold our data directory (and corrupt it if a second server
    shared it).
    """
    wanted = str(value)
    for proc in psutil.process_iter(["name", "cmdline"]):
        name = proc.info["name"]
        cmdline: list[str] = proc.info["cmdline"] or []
        if name != exe_name or not _has_option(cmdline, flag, wanted):
            continue
        log.warning("stopping a leftover %s (pid %s) that uses %s", exe_name, proc.pid, wanted)
        try:
            proc.send_signal(sig)
            try:
                proc.wait(10)
            except psutil.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        except psutil.NoSuchProcess:
            continue


def _has_option(cmdline: Sequence[str], flag: str, value: str) -> bool:
    return any(a == flag and b == value for a, b in itertools.pairwise(cmdline))
