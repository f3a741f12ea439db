"""WebSocket close codes the gateway uses, with the reason text clients see."""

from typing import Final

__all__ = [
    "GOING_AWAY",
    "HEARTBEAT_TIMEOUT",
    "MESSAGE_TOO_BIG",
    "ORIGIN_REFUSED",
    "SLOW_CONSUMER",
    "TOO_MANY_CONNECTIONS",
]

GOING_AWAY: Final = 1001  # the gateway is shutting down; reconnect (to another replica)
ORIGIN_REFUSED: Final = 1008  # policy violation: Origin not in the allow-list (HTTP 403 handshake)
MESSAGE_TOO_BIG: Final = 1009  # a client frame over the size limit
TOO_MANY_CONNECTIONS: Final = 1013  # try again later: too many connections from this address
SLOW_CONSUMER: Final = 4000  # the client read too slowly for too long; resume after reconnecting
HEARTBEAT_TIMEOUT: Final = 4002  # nothing heard from the client within the heartbeat timeout
