"""WebSocket streaming: `/ws` (channels, resume, backpressure) and the old hub's `/ws/master`."""

from cryptohub.gateway.ws.config import WsConfig
from cryptohub.gateway.ws.hub import WebSocketHub

__all__ = ["WebSocketHub", "WsConfig"]
