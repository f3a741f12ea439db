"""CryptoHub shared library: contracts, NATS plumbing, provider client, settings, telemetry."""
