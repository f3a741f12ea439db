"""Versioned SQL migrations (`migrations/NNNN_name.sql`), applied once each, under an advisory lock.

Each file runs in its own transaction together with its row in `schema_migrations`, so a
migration is either applied and recorded or not at all. Replicas starting together serialise on
a PostgreSQL advisory lock; the second finds nothing left to do. An applied file that has since
changed is refused (write a new migration instead).
"""

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Final

import asyncpg

from cryptohub.gateway.errors import MigrationError

__all__ = ["Migration", "migrate", "migrations"]

log = logging.getLogger(__name__)

# Any constant, the same in every replica: "cryptohub.gateway" as a signed 64-bit int.
_LOCK_KEY: Final = int.from_bytes(
    hashlib.sha256(b"cryptohub.gateway").digest()[:8], "big", signed=True
)
_FILE: Final = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_CREATE_TABLE: Final = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations() -> list[Migration]:
    """The migration files shipped with the package, by version."""
    found: list[Migration] = []
    for entry in resources.files("cryptohub.gateway.migrations").iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE.match(entry.name)
        if match is None:
            raise MigrationError(0, entry.name, "file name must look like 0001_name.sql")
        found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(0, "", f"duplicate versions in {versions}")
    return found


async def migrate(pool: asyncpg.Pool) -> list[int]:
    """Apply every migration not applied yet; the versions applied now."""
    applied_now: list[int] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            await conn.execute(_CREATE_TABLE)
            done = {
                row["version"]: row["checksum"]
                for row in await conn.fetch("SELECT version, checksum FROM schema_migrations")
            }
            for migration in migrations():
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise MigrationError(
                            migration.version,
                            migration.name,
                            "changed since it was applied; add a new migration instead",
                        )
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) "
                        "VALUES ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
                log.info("applied migration %04d %s", migration.version, migration.name)
                applied_now.append(migration.version)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now
