"""Faults to inject per route, so tests can make a provider slow, rude, broken or rate limited."""

from dataclasses import dataclass

import msgspec

from cryptohub.common.replay.routes import normalize_path

ANY = "*"
"""As a path or method in `FaultTable.inject`: every path / method of the provider."""


class Fault(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How to misbehave on the next matching requests (all of them while `times` is None).

    `delay_s` and `headers` combine with anything. At most one of `hang`, `reset`, `truncate`,
    `garbage`, `oversize_bytes` applies. `status` answers that status with a small JSON error
    body (or `body`); without `status`, `body` replaces the recorded body.
    """

    status: int | None = None
    retry_after: str | None = None
    delay_s: float = 0.0
    hang: bool = False
    reset: bool = False
    truncate: bool = False
    garbage: bool = False
    oversize_bytes: int | None = None
    body: bytes | None = None
    headers: dict[str, str] = {}
    times: int | None = None

    def __post_init__(self) -> None:
        modes = [name for name in ("hang", "reset", "truncate", "garbage") if getattr(self, name)]
        if self.oversize_bytes is not None:
            modes.append("oversize_bytes")
        if len(modes) > 1:
            raise ValueError(f"choose one of {', '.join(modes)}")
        answers = (self.status, self.body, self.retry_after)
        if (self.hang or self.reset) and (any(a is not None for a in answers) or self.headers):
            raise ValueError("hang and reset send no response: no status, body or headers")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError(f"status {self.status} is not an HTTP status")
        if self.delay_s < 0:
            raise ValueError("delay_s must be >= 0")
        if self.oversize_bytes is not None and self.oversize_bytes < 0:
            raise ValueError("oversize_bytes must be >= 0")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be >= 1 (or None: until cleared)")

    @property
    def response_headers(self) -> list[tuple[str, str]]:
        """Headers the fault adds to whatever it answers."""
        extra = list(self.headers.items())
        if self.retry_after is not None:
            extra.append(("retry-after", self.retry_after))
        return extra


@dataclass(slots=True)
class _Armed:
    fault: Fault
    remaining: int | None


class FaultTable:
    """One armed fault per (provider, method, path); `*` matches any method or path."""

    def __init__(self) -> None:
        self._armed: dict[tuple[str, str, str], _Armed] = {}

    def inject(self, provider: str, path: str, fault: Fault, *, method: str = "GET") -> None:
        """Arm `fault`, replacing any fault armed for the same provider, method and path."""
        self._armed[_key(provider, method, path)] = _Armed(fault, fault.times)

    def clear(self, provider: str | None = None) -> int:
        """Disarm every fault (of one provider); returns how many were armed."""
        doomed = [key for key in self._armed if provider is None or key[0] == provider]
        for key in doomed:
            del self._armed[key]
        return len(doomed)

    def take(self, provider: str, method: str, path: str) -> Fault | None:
        """The fault for this request, if any, counting it as used once."""
        method, path = method.upper(), normalize_path(path)
        for key in (
            (provider, method, path),
            (provider, method, ANY),
            (provider, ANY, path),
            (provider, ANY, ANY),
        ):
            armed = self._armed.get(key)
            if armed is None:
                continue
            if armed.remaining is not None:
                armed.remaining -= 1
                if armed.remaining == 0:
                    del self._armed[key]
            return armed.fault
        return None

    def armed(self) -> list[tuple[str, str, str, Fault, int | None]]:
        """(provider, method, path, fault, uses left) for every armed fault."""
        return [(*key, a.fault, a.remaining) for key, a in self._armed.items()]

    def __len__(self) -> int:
        return len(self._armed)


def _key(provider: str, method: str, path: str) -> tuple[str, str, str]:
    method = method.upper()
    return provider, method, path if path == ANY else normalize_path(path)
