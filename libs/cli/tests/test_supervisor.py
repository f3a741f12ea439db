"""Supervisor: prefixed output, restart with backoff on crash, nothing left after a stop."""

import asyncio
import io
import itertools
import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from cryptohub.cli.policy import RestartPolicy
from cryptohub.cli.supervisor import ChildSpec, Supervisor

FAST = RestartPolicy(initial_delay=0.1, factor=2.0, max_delay=0.4, stable_after=30)


def script(tmp_path: Path, name: str, body: str) -> tuple[str, ...]:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return (sys.executable, str(path))


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def wait_until(condition: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


@pytest.mark.timeout(20)
async def test_each_output_line_is_prefixed_with_the_child_name(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        "echo",
        """
        import sys
        print("hello")
        sys.stderr.write("from stderr\\n")
        sys.stdout.write("no newline at the end")
        """,
    )
    out = io.StringIO()
    supervisor = Supervisor(policy=FAST, output=out)
    supervisor.spawn(ChildSpec("echo", argv))
    await wait_until(lambda: "no newline" in out.getvalue(), within=10)
    await supervisor.shutdown()
    assert sorted(out.getvalue().splitlines()) == [
        "[echo] from stderr",
        "[echo] hello",
        "[echo] no newline at the end",
    ]


@pytest.mark.timeout(20)
async def test_crashing_child_is_restarted_with_growing_capped_delays(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    starts = tmp_path / "starts"
    argv = script(
        tmp_path,
        "crash",
        f"""
        import time
        with open({str(starts)!r}, "a") as f:
            f.write(f"{{time.monotonic()}}\\n")
        raise SystemExit(3)
        """,
    )
    caplog.set_level(logging.WARNING, logger="cryptohub.cli.supervisor")
    supervisor = Supervisor(policy=FAST, output=io.StringIO())
    supervisor.spawn(ChildSpec("crash", argv))
    await wait_until(lambda: supervisor.restarts["crash"] >= 4, within=15)
    await supervisor.shutdown()

    messages = [r.getMessage() for r in caplog.records]
    delays = [float(m) for m in re.findall(r"restarting in ([0-9.]+)s", "\n".join(messages))]
    assert delays[:4] == [0.1, 0.2, 0.4, 0.4]
    times = [float(t) for t in starts.read_text().split()]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= delay for gap, delay in zip(gaps, delays, strict=False))


@pytest.mark.timeout(20)
async def test_child_that_exits_cleanly_is_not_restarted(tmp_path: Path) -> None:
    argv = script(tmp_path, "done", "print('done')\n")
    out = io.StringIO()
    supervisor = Supervisor(policy=FAST, output=out)
    supervisor.spawn(ChildSpec("done", argv))
    await wait_until(lambda: "[done] done" in out.getvalue() and not supervisor.pids, within=10)
    await asyncio.sleep(0.3)
    await supervisor.shutdown()
    assert supervisor.restarts == {"done": 0}


@pytest.mark.timeout(20)
async def test_child_that_cannot_start_is_retried_without_killing_the_supervisor(
    tmp_path: Path,
) -> None:
    supervisor = Supervisor(policy=FAST, output=io.StringIO())
    supervisor.spawn(ChildSpec("missing", (str(tmp_path / "no-such-binary"),)))
    await wait_until(lambda: supervisor.restarts["missing"] >= 2, within=10)
    await supervisor.shutdown()


@pytest.mark.timeout(20)
async def test_child_env_is_added_to_the_supervisor_environment(tmp_path: Path) -> None:
    argv = script(tmp_path, "env", "import os; print(os.environ['EXTRA'], 'PATH' in os.environ)\n")
    out = io.StringIO()
    supervisor = Supervisor(policy=FAST, output=out)
    supervisor.spawn(ChildSpec("env", argv, {"EXTRA": "42"}))
    await wait_until(lambda: "[env]" in out.getvalue(), within=10)
    await supervisor.shutdown()
    assert out.getvalue() == "[env] 42 True\n"


@pytest.mark.timeout(40)
def test_sigterm_to_the_supervisor_stops_children_and_grandchildren(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    pids.mkdir()
    child = script(
        tmp_path,
        "parent",
        f"""
        import os, subprocess, sys, time
        grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(os.path.join({str(pids)!r}, sys.argv[1]), "w") as f:
            f.write(f"{{os.getpid()}} {{grandchild.pid}}")
        if sys.argv[1] == "stubborn":
            import signal
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ready", flush=True)
        time.sleep(600)
        """,
    )
    runner = script(
        tmp_path,
        "runner",
        f"""
        import asyncio
        from cryptohub.cli.supervisor import ChildSpec, Supervisor
        specs = [ChildSpec(n, {child!r} + (n,)) for n in ("polite", "stubborn")]
        asyncio.run(Supervisor(stop_timeout=2.0).run(specs))
        """,
    )
    proc = subprocess.Popen(runner, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 20
        while len(list(pids.iterdir())) < 2 or not all(p.read_text() for p in pids.iterdir()):
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "children did not start"
            time.sleep(0.05)
        started = [int(pid) for p in pids.iterdir() for pid in p.read_text().split()]
        assert len(started) == 4
        assert not any(gone(pid) for pid in started)

        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()

    assert proc.returncode == 0, output.decode()
    text = output.decode()
    assert "[polite] ready" in text
    assert "[stubborn] ready" in text
    assert "killing stubborn" in text
    deadline = time.monotonic() + 5
    while not all(gone(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in started if not gone(pid)] == []
    assert os.getpid() not in started
