"""Replay server: recorded provider bodies on loopback, with faults, so tests never go live."""

from cryptohub.common.replay.faults import ANY, Fault
from cryptohub.common.replay.recorder import RecordedRequest
from cryptohub.common.replay.routes import Route, RouteTable, RouteTableError, load_routes
from cryptohub.common.replay.server import ReplayServer

__all__ = [
    "ANY",
    "Fault",
    "RecordedRequest",
    "ReplayServer",
    "Route",
    "RouteTable",
    "RouteTableError",
    "load_routes",
]
