"""Telemetry: JSON-lines logs, Prometheus metrics and OpenTelemetry tracing, set up once."""
