"""DeFi TVL: the top protocols (with their chains), explicitly listed protocols in detail, the
TVL of each chain and the DeFi total, each from its own pool."""

import logging
from collections.abc import Sequence
from datetime import datetime

from cryptohub.collector_market.capability import Capability
from cryptohub.collector_market.observation import stamp_with_slot
from cryptohub.collector_market.outbox import Outbox
from cryptohub.common.events import TvlPoint
from cryptohub.common.providers import PoolExhaustedError

log = logging.getLogger(__name__)


class TvlJob:
    def __init__(
        self, capabilities: Sequence[Capability[None, list[TvlPoint]]], outbox: Outbox
    ) -> None:
        self._capabilities = capabilities
        self._outbox = outbox

    async def run(self, at: datetime) -> None:
        points: list[TvlPoint] = []
        for capability in self._capabilities:
            try:
                result = await capability.one(None)
            except PoolExhaustedError:
                continue
            if result is not None:
                points.extend(result.value)
        if points:
            await self._outbox.publish(stamp_with_slot(points, at))
