"""Where ``cryptohub up --replay`` (without a DIR) finds the recorded provider bodies."""

from collections.abc import Iterable
from pathlib import Path

from cryptohub.cli.errors import CliError

__all__ = ["RECORDED", "find_recorded"]

RECORDED = Path("fixtures") / "providers"
"""The repository's recorded bodies, relative to its root; ``routes.json`` marks the folder."""

_MARKER = "routes.json"


def find_recorded(starts: Iterable[Path] | None = None) -> Path:
    """The nearest ``fixtures/providers`` holding ``routes.json`` at or above each start in turn:
    the working directory, then this package's own location (an editable install in a clone)."""
    searched = []
    for start in starts if starts is not None else (Path.cwd(), Path(__file__)):
        start = start.absolute()
        for folder in (start, *start.parents):
            candidate = folder / RECORDED
            if (candidate / _MARKER).is_file():
                return candidate
        searched.append(str(start))
    raise CliError(
        f"--replay: no {RECORDED / _MARKER} at or above {' or '.join(searched)}; "
        "pass the folder of recorded bodies: --replay DIR"
    )
