"""NATS plumbing: the broker factory, the idempotent event publisher, the attempt sink."""
