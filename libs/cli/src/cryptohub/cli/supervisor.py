"""Run children as subprocesses: prefix their output, restart them on crash, stop them all."""

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TextIO

from cryptohub.cli.policy import Backoff, RestartPolicy

__all__ = ["ChildSpec", "Supervisor"]

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_MAX_LINE = 1024 * 1024
_DRAIN_TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """A child to keep running: ``env`` is added to (and overrides) the supervisor's own."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Child:
    spec: ChildSpec
    backoff: Backoff
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    task: asyncio.Task[None] | None = None

    def signal_group(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the child's process group (the child and its own children)."""
        if self.process is not None:
            _signal_group(self.process.pid, sig)


class Supervisor:
    """Keeps children running until asked to stop, then stops every one of them.

    Each child runs in its own session, so SIGTERM and SIGKILL reach its whole process
    group. ``on_change`` is called whenever a child starts or exits (to save pids).
    """

    def __init__(
        self,
        *,
        policy: RestartPolicy | None = None,
        output: TextIO | None = None,
        stop_timeout: float = 10.0,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.policy = policy or RestartPolicy()
        self.stop_timeout = stop_timeout
        self._output = output
        self._on_change = on_change
        self._children: dict[str, _Child] = {}
        self._stop = asyncio.Event()
        self._signals: list[signal.Signals] = []

    @property
    def pids(self) -> dict[str, int]:
        """Pid of every child running now, by name."""
        return {
            name: child.process.pid
            for name, child in self._children.items()
            if child.process is not None and child.process.returncode is None
        }

    @property
    def restarts(self) -> dict[str, int]:
        """How many times each child was restarted."""
        return {name: child.restarts for name, child in self._children.items()}

    @property
    def stopping(self) -> bool:
        """Whether a stop was requested."""
        return self._stop.is_set()

    def spawn(self, spec: ChildSpec) -> None:
        """Start ``spec`` and keep it running (call from the running event loop)."""
        if spec.name in self._children:
            raise ValueError(f"a child named {spec.name!r} is already supervised")
        child = _Child(spec, Backoff(self.policy))
        self._children[spec.name] = child
        child.task = asyncio.get_running_loop().create_task(
            self._keep_running(child), name=f"supervise-{spec.name}"
        )
        child.task.add_done_callback(self._report_failure)

    def request_stop(self) -> None:
        """Ask :meth:`run` / :meth:`wait_for_stop` to return; no child restarts from now on."""
        self._stop.set()

    async def wait_for_stop(self) -> None:
        """Return once a stop was requested (by a signal or :meth:`request_stop`)."""
        await self._stop.wait()

    def install_signal_handlers(self) -> None:
        """SIGINT and SIGTERM request a stop."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig)
            self._signals.append(sig)

    def remove_signal_handlers(self) -> None:
        """Undo :meth:`install_signal_handlers`."""
        loop = asyncio.get_running_loop()
        for sig in self._signals:
            loop.remove_signal_handler(sig)
        self._signals.clear()

    async def run(self, specs: Iterable[ChildSpec]) -> None:
        """Start ``specs``, supervise them until SIGINT/SIGTERM or a stop request, stop them."""
        self.install_signal_handlers()
        try:
            for spec in specs:
                self.spawn(spec)
            await self.wait_for_stop()
        finally:
            await self.shutdown()
            self.remove_signal_handlers()

    async def shutdown(self) -> None:
        """SIGTERM every child's group, wait ``stop_timeout`` s, SIGKILL what is left."""
        self.request_stop()
        tasks = [c.task for c in self._children.values() if c.task is not None]
        if not tasks:
            return
        for child in self._children.values():
            child.signal_group(signal.SIGTERM)
        _, pending = await asyncio.wait(tasks, timeout=self.stop_timeout)
        if pending:
            late = [c.spec.name for c in self._children.values() if c.task in pending]
            log.warning(
                "killing %s: still running %ss after SIGTERM", ", ".join(late), self.stop_timeout
            )
            for child in self._children.values():
                child.signal_group(signal.SIGKILL)
            await asyncio.wait(pending)
        log.info("all children stopped")

    async def _keep_running(self, child: _Child) -> None:
        loop = asyncio.get_running_loop()
        name = child.spec.name
        while not self._stop.is_set():
            started = loop.time()
            returncode = await self._run_once(child)
            uptime = loop.time() - started
            if self._stop.is_set():
                break
            if returncode == 0:
                log.info("%s exited cleanly after %.1fs; not restarting it", name, uptime)
                break
            delay = child.backoff.after_crash(uptime)
            log.warning(
                "%s exited with status %s after %.1fs; restarting in %.1fs",
                name,
                returncode,
                uptime,
                delay,
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stop.wait()
            if not self._stop.is_set():
                child.restarts += 1

    async def _run_once(self, child: _Child) -> int | None:
        """Run the child once until it exits; its status (``None`` if it could not start)."""
        spec = child.spec
        try:
            process = await asyncio.create_subprocess_exec(
                *spec.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env={**os.environ, **spec.env},
                start_new_session=True,
            )
        except OSError as exc:
            log.error("%s: cannot start %s: %s", spec.name, spec.argv[0], exc)
            return None
        child.process = process
        if self._stop.is_set():  # asked to stop while it was being started
            child.signal_group(signal.SIGTERM)
        log.info("%s started (pid %s)", spec.name, process.pid)
        self._changed()
        if process.stdout is None:  # pragma: no cover - stdout=PIPE above
            raise RuntimeError("the child has no stdout pipe")
        relay = asyncio.create_task(self._relay(spec.name, process.stdout))
        try:
            returncode = await process.wait()
        finally:
            # Whatever it left in its process group goes with it.
            _signal_group(process.pid, signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_DRAIN_TIMEOUT):
                    await asyncio.shield(relay)
            relay.cancel()
            child.process = None
            self._changed()
        return returncode

    async def _relay(self, name: str, stream: asyncio.StreamReader) -> None:
        """Copy the child's output, each line prefixed with ``[name]``."""
        pending = b""
        while chunk := await stream.read(_CHUNK):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if len(pending) > _MAX_LINE:
                lines.append(pending)
                pending = b""
            self._write(name, lines)
        if pending:
            self._write(name, [pending])

    def _write(self, name: str, lines: list[bytes]) -> None:
        if not lines:
            return
        out = self._output if self._output is not None else sys.stderr
        prefix = f"[{name}] "
        text = "".join(f"{prefix}{line.decode(errors='replace').rstrip()}\n" for line in lines)
        out.write(text)
        out.flush()

    def _on_signal(self, sig: signal.Signals) -> None:
        if self.stopping:
            log.info("%s again: already stopping", sig.name)
            return
        log.info("%s received: stopping every child", sig.name)
        self.request_stop()

    @staticmethod
    def _report_failure(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s failed: the child is no longer supervised", task.get_name(), exc_info=exc)

    def _changed(self) -> None:
        if self._on_change is not None:
            try:
                self._on_change()
            except OSError:
                log.exception("could not record the children's state")


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
