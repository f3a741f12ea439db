"""CryptoHub gateway: persists every stream in PostgreSQL and serves it over REST and WebSocket."""
