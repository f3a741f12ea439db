"""Root conftest: the shared fixtures (embedded NATS, PostgreSQL, replay server) for every test."""

pytest_plugins = ["cryptohub.common.testing"]
