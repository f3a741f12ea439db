"""The gateway's own errors; each carries what a caller needs to answer or retry."""

__all__ = ["DatabaseUnavailableError", "MigrationError"]


class DatabaseUnavailableError(Exception):
    """PostgreSQL cannot be used right now (not connected yet, or unreachable)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"database unavailable: {reason}")
        self.reason = reason


class MigrationError(Exception):
    """An applied migration no longer matches its file, or a file name is malformed."""

    def __init__(self, version: int, name: str, problem: str) -> None:
        super().__init__(f"migration {version:04d} ({name}): {problem}")
        self.version = version
        self.name = name
        self.problem = problem
