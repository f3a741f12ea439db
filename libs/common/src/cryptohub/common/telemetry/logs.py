"""JSON-lines logging configured once in main(); every line is masked for secrets."""

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import msgspec

from cryptohub.common.secrets import SecretMaskingFilter, install_log_masking, mask

_encoder = msgspec.json.Encoder()
_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, service, msg, extras, exception."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "service": self._service,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                line[key] = (
                    value if isinstance(value, str | int | float | bool | None) else repr(value)
                )
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        return mask(_encoder.encode(line).decode())


def configure_logging(service: str, level: str = "info", *, json: bool = True) -> None:
    """Install one stderr handler on the root logger (replacing any), masking secrets everywhere."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(SecretMaskingFilter())
    if json:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request URL at INFO; keep it at WARNING and masked regardless.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    install_log_masking()
