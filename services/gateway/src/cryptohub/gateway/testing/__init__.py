"""Helpers for tests and benchmarks of the gateway: sample events, a gateway served on loopback."""
