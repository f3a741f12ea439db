"""The log of requests the replay server received, for tests to count and inspect."""

from collections import deque
from collections.abc import Iterator

import msgspec

from cryptohub.common.replay.routes import normalize_path


class RecordedRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One request as received; `path` is relative to the provider, `at` is `time.monotonic()`.

    `query` keeps the last value of a repeated param; `headers` have lower-case names.
    """

    provider: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float
    body: bytes = b""


class RequestLog:
    """The latest `maxlen` requests, oldest first."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._items: deque[RecordedRequest] = deque(maxlen=maxlen)

    def append(self, request: RecordedRequest) -> None:
        self._items.append(request)

    def clear(self) -> int:
        count = len(self._items)
        self._items.clear()
        return count

    def select(self, provider: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """The requests to `provider` (and `path`, relative to the provider), oldest first."""
        wanted = None if path is None else normalize_path(path)
        return [
            r
            for r in self._items
            if (provider is None or r.provider == provider) and (wanted is None or r.path == wanted)
        ]

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)
