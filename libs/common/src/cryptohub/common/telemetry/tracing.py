"""OpenTelemetry tracing, off by default; FastStream's middleware carries `traceparent`."""

import logging
from typing import Literal

from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

log = logging.getLogger(__name__)

Exporter = Literal["none", "console", "otlp"]


def configure_tracing(
    service: str, exporter: Exporter = "none", endpoint: str | None = None
) -> TracerProvider | None:
    """Build and install the tracer provider; None when tracing is off."""
    if exporter == "none":
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": f"cryptohub-{service}"}))
    span_exporter: SpanExporter
    if exporter == "console":
        span_exporter = ConsoleSpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        span_exporter = OTLPSpanExporter(endpoint=endpoint) if endpoint else OTLPSpanExporter()
        provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(provider)
    log.info("tracing on: exporter=%s", exporter)
    return provider


def nats_tracing_middleware(provider: TracerProvider | None) -> NatsTelemetryMiddleware:
    """FastStream middleware that opens a span per publish/consume and propagates `traceparent`."""
    return NatsTelemetryMiddleware(tracer_provider=provider or trace.get_tracer_provider())
