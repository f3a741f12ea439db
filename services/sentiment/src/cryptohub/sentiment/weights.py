"""Where a model's weights are on this machine: a local directory or the Hugging Face cache."""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from huggingface_hub import constants, snapshot_download
from huggingface_hub.errors import (
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
)

from cryptohub.sentiment.errors import ModelUnavailableError

__all__ = ["LocatedWeights", "directory_revision", "locate_weights"]


# Files that decide a model's outputs: config, tokenizer and weights.
_FINGERPRINTED_SUFFIXES: Final = frozenset({".json", ".safetensors", ".bin", ".txt", ".model"})
_CHUNK: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class LocatedWeights:
    """A model found on disk: its name as configured, its folder, its exact revision."""

    name: str
    path: Path
    revision: str


def directory_revision(path: Path) -> str:
    """A content hash of a local model directory (config, tokenizer, weights): retrained or
    replaced weights get a new revision, so their articles are scored again."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.iterdir() if p.suffix in _FINGERPRINTED_SUFFIXES):
        digest.update(file.name.encode())
        with file.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return f"sha256:{digest.hexdigest()[:16]}"


def _looks_like_path(model: str) -> bool:
    return model.startswith(("/", "./", "../", "~")) or Path(model).expanduser().exists()


def locate_weights(
    model: str,
    *,
    revision: str | None = None,
    cache_dir: str | None = None,
    allow_download: bool = False,
) -> LocatedWeights:
    """`model` is a directory (used as it is) or a Hugging Face id, looked up in the cache.

    Nothing is downloaded unless `allow_download` is set and `HF_HUB_OFFLINE` is not; then
    `snapshot_download` fetches the repository into the cache. ModelUnavailableError says why
    a model cannot be found.
    """
    if _looks_like_path(model):
        path = Path(model).expanduser()
        if not path.is_dir():
            raise ModelUnavailableError(model, f"no such directory {path}")
        if not (path / "config.json").is_file():
            raise ModelUnavailableError(model, f"{path} has no config.json")
        return LocatedWeights(model, path, revision or directory_revision(path))
    offline = constants.HF_HUB_OFFLINE
    local_only = offline or not allow_download
    cache = cache_dir or constants.HF_HUB_CACHE
    try:
        snapshot = snapshot_download(
            model, revision=revision, cache_dir=cache_dir, local_files_only=local_only
        )
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as exc:
        why = "HF_HUB_OFFLINE is set" if offline else "downloads are off"
        if not offline and allow_download:
            why = "the Hub could not be reached"
        hint = "" if allow_download else " (CRYPTOHUB_SENTIMENT_ALLOW_DOWNLOAD=true fetches it)"
        raise ModelUnavailableError(
            model, f"not in the Hugging Face cache {cache} and {why}{hint}"
        ) from exc
    except (HfHubHTTPError, OSError, ValueError) as exc:
        raise ModelUnavailableError(model, f"{type(exc).__name__}: {exc}") from exc
    path = Path(snapshot)
    return LocatedWeights(model, path, path.name)
