"""The cryptohub command end to end: up, status, run, as real processes."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from cryptohub.cli.errors import CliError
from cryptohub.cli.fixtures import find_recorded
from cryptohub.cli.up import http_port, replay_env
from cryptohub.common.providers import ProviderSpec, resolve
from cryptohub.common.testing import private_tmp_dir

pytestmark = pytest.mark.integration

CLI = (sys.executable, "-m", "cryptohub.cli")


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not under tmp_path: PostgreSQL runs as another user when we are root (see private_tmp_dir).
    with private_tmp_dir("cryptohub-test-up-") as path:
        yield path / "state"


@pytest.fixture
def fake_service(tmp_path: Path) -> dict[str, str]:
    """An installed distribution declaring the service ``fakesvc``; the env to find it."""
    site = tmp_path / "site"
    dist_info = site / "fake_service-0.1.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-service\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(
        "[cryptohub.services]\nfakesvc = fake_service:main\n"
    )
    (site / "fake_service.py").write_text(
        textwrap.dedent(
            """
            import json, os, sys, time

            KEYS = ("NATS_URL", "DATABASE_URL", "CRYPTOHUB_METRICS_PORT")

            def main():
                if os.environ.get("FAKE_ENV_OUT"):
                    out = os.environ["FAKE_ENV_OUT"]
                    with open(out + ".tmp", "w") as f:
                        json.dump({k: os.environ.get(k) for k in KEYS}, f)
                    os.replace(out + ".tmp", out)  # whole or absent to the test reading it
                print("fake service running", flush=True)
                if os.environ.get("FAKE_EXIT") is not None:
                    return int(os.environ["FAKE_EXIT"])
                time.sleep(600)
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith(("NATS_URL", "DATABASE_URL"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env["FAKE_ENV_OUT"] = str(tmp_path / "fake-env.json")
    return env


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI
        [*CLI, *args], capture_output=True, text=True, timeout=30, env=env, check=False
    )


def status_json(data_dir: Path, env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    result = cli("status", "--json", "--data-dir", str(data_dir), env=env)
    return result.returncode, json.loads(result.stdout)


def leftovers(data_dir: Path) -> list[str]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(data_dir) in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(f"{proc.pid}: {cmdline}")
    return found


@pytest.mark.timeout(30)
def test_run_unknown_service_exits_2_and_lists_known_ones(fake_service: dict[str, str]) -> None:
    result = cli("run", "nope", env=fake_service)
    assert result.returncode == 2
    assert "unknown service 'nope'" in result.stderr
    assert "fakesvc" in result.stderr


@pytest.mark.timeout(30)
def test_run_calls_the_service_main_and_returns_its_status(fake_service: dict[str, str]) -> None:
    result = cli("run", "fakesvc", env=fake_service | {"FAKE_EXIT": "5"})
    assert result.returncode == 5
    assert "fake service running" in result.stdout


@pytest.mark.timeout(30)
def test_status_without_a_running_up_exits_3(tmp_path: Path) -> None:
    result = cli("status", "--data-dir", str(tmp_path))
    assert result.returncode == 3
    assert "not running" in result.stdout


def test_replay_env_names_the_providers_of_the_route_table_not_the_folders(
    tmp_path: Path,
) -> None:
    # One folder holding two providers' bodies, a provider with a '-', a folder with no route.
    for folder in ("feeds", "defi-llama", "orphan"):
        (tmp_path / folder).mkdir()
    for body in ("feeds/a.xml", "feeds/b.xml", "defi-llama/x.json", "orphan/y.json"):
        (tmp_path / body).write_text("<rss/>")
    routes = {
        "version": 1,
        "providers": {
            "alpha_news": [{"path": "/rss", "file": "feeds/a.xml"}],
            "beta": [{"path": "/feed", "file": "feeds/b.xml"}],
            "defi-llama": [{"path": "/charts", "file": "defi-llama/x.json"}],
        },
    }
    (tmp_path / "routes.json").write_text(json.dumps(routes))
    assert replay_env(tmp_path, 8123) == {
        "CRYPTOHUB_REPLAY": "1",
        "CRYPTOHUB_REPLAY_URL": "http://127.0.0.1:8123",
        "CRYPTOHUB_ALPHA_NEWS_BASE_URL": "http://127.0.0.1:8123/alpha_news",
        "CRYPTOHUB_BETA_BASE_URL": "http://127.0.0.1:8123/beta",
        "CRYPTOHUB_DEFI_LLAMA_BASE_URL": "http://127.0.0.1:8123/defi-llama",
    }


def test_replay_env_over_the_repo_fixtures_routes_each_feed_to_its_own_recordings() -> None:
    env = replay_env(find_recorded(), 8123)
    assert env["CRYPTOHUB_REPLAY"] == "1"
    assert env["CRYPTOHUB_REPLAY_URL"] == "http://127.0.0.1:8123"
    assert env["CRYPTOHUB_COINDESK_BASE_URL"] == "http://127.0.0.1:8123/coindesk"
    assert env["CRYPTOHUB_COINTELEGRAPH_BASE_URL"] == "http://127.0.0.1:8123/cointelegraph"
    assert env["CRYPTOHUB_COINGECKO_BASE_URL"] == "http://127.0.0.1:8123/coingecko"
    # No shared feed provider: one outlet's recording must never answer for another.
    assert "CRYPTOHUB_RSS_BASE_URL" not in env
    # Feeds with no recording go to the replay server under their own name (a 404 there).
    for name, host in [("decrypt", "https://decrypt.co"), ("the_block", "https://theblock.co")]:
        assert f"CRYPTOHUB_{name.upper()}_BASE_URL" not in env
        spec = ProviderSpec(name=name, category="news", base_url=host)
        assert resolve(spec, env).base_url == f"http://127.0.0.1:8123/{name}"


def test_replay_env_with_a_broken_route_table_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "routes.json").write_text('{"version": 1, "providers": {"x": [{"path": "/a"}]}}')
    with pytest.raises(CliError, match=r"--replay .*routes\.json.*providers\.x\[0\]"):
        replay_env(tmp_path, 8123)


@pytest.mark.timeout(120)
def test_up_runs_infrastructure_and_services_restarts_nats_and_stops_clean_on_sigint(
    data_dir: Path, fake_service: dict[str, str]
) -> None:
    up = subprocess.Popen(  # noqa: S603 - our own CLI
        [*CLI, "up", "--data-dir", str(data_dir), "--only", "fakesvc"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=fake_service,
    )
    try:
        report: dict[str, Any] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert up.poll() is None, up.stdout.read() if up.stdout else ""
            code, report = status_json(data_dir, fake_service)
            if code == 0:
                break
            time.sleep(0.2)
        assert code == 0, report
        states = {c["name"]: c["state"] for c in report["components"]}
        assert states == {
            "up": "running",
            "nats": "healthy",
            "postgres": "healthy",
            "fakesvc": "running",
        }
        pids = [c["pid"] for c in report["components"]]
        # "running" means spawned: the fake service writes what it was given a moment later.
        env_out = Path(fake_service["FAKE_ENV_OUT"])
        deadline = time.monotonic() + 30
        while not env_out.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        seen = json.loads(env_out.read_text())
        by_name = {c["name"]: c for c in report["components"]}
        assert seen["NATS_URL"] == by_name["nats"]["detail"]
        assert seen["DATABASE_URL"] == by_name["postgres"]["detail"]
        assert int(seen["CRYPTOHUB_METRICS_PORT"]) > 0

        # A crashed embedded NATS comes back on the same URL.
        os.kill(by_name["nats"]["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            code, report = status_json(data_dir, fake_service)
            nats = next(c for c in report["components"] if c["name"] == "nats")
            if code == 0 and nats["pid"] != by_name["nats"]["pid"]:
                break
            time.sleep(0.2)
        assert code == 0, report
        assert nats["detail"] == by_name["nats"]["detail"]
        pids.append(nats["pid"])

        second = cli("up", "--data-dir", str(data_dir), env=fake_service)
        assert second.returncode == 1
        assert "already runs" in second.stderr

        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
            up.communicate()  # closes the pipe too: no unclosed file left to a later test

    assert up.returncode == 0, output
    assert "[fakesvc] fake service running" in output
    assert not (data_dir / "state.json").exists()
    assert leftovers(data_dir) == []
    assert [pid for pid in pids if psutil.pid_exists(pid) and _not_zombie(pid)] == []
    assert cli("status", "--data-dir", str(data_dir)).returncode == 3


def _not_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_the_gateways_http_port_is_read_as_the_gateway_reads_it() -> None:
    assert http_port({}) == 7860
    assert http_port({"CRYPTOHUB_PORT": " 8123 "}) == 8123
    assert http_port({"CRYPTOHUB_PORT": "not-a-port"}) == 7860  # the gateway refuses it itself
