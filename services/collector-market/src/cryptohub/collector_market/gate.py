"""Spends one (capability, provider) allotment: at most one call per spacing.

The spacing windows lie on a grid counted from the Unix epoch, so replicas agree on which
window a call falls in. An unslowed allotment needs no gate: the schedule spaces its calls.
"""

import math

from cryptohub.common.providers import ProviderError


class Gate:
    """Whether `provider` may be called for `capability` now; `spend` when it is."""

    def __init__(self, capability: str, provider: str, spacing: float) -> None:
        self.capability = capability
        self.provider = provider
        self.spacing = spacing
        self._next = 0.0

    def wait(self, now: float) -> float:
        """Seconds until the next call is allowed (0: now)."""
        return max(0.0, self._next - now)

    def spend(self, now: float) -> None:
        self._next = (math.floor(now / self.spacing) + 1) * self.spacing

    def take(self, now: float) -> None:
        """Spend the allotment, or refuse locally (no HTTP is sent) while it is spent."""
        wait = self.wait(now)
        if wait > 0:
            raise ProviderError(
                self.provider,
                self.capability,
                "rate_limited",
                f"quota budget: next {self.capability} call in {wait:.0f}s",
                called=False,
            )
        self.spend(now)
