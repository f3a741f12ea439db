"""The global market (total cap, volume, dominance): one answer per cycle, with failover."""

import logging
from datetime import datetime

from cryptohub.collector_market.capability import Capability
from cryptohub.collector_market.observation import stamp_with_slot
from cryptohub.collector_market.outbox import Outbox
from cryptohub.common.events import MarketGlobal
from cryptohub.common.providers import PoolExhaustedError

log = logging.getLogger(__name__)


class GlobalJob:
    def __init__(self, capability: Capability[None, MarketGlobal], outbox: Outbox) -> None:
        self._capability = capability
        self._outbox = outbox

    async def run(self, at: datetime) -> None:
        try:
            result = await self._capability.one(None)
        except PoolExhaustedError:
            return
        if result is not None:
            await self._outbox.publish(stamp_with_slot([result.value], at))
