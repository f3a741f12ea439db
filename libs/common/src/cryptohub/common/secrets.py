"""Process-wide registry of secret values, so every log line, error and event can be masked."""

import logging
import re
import threading

MASK = "***"
_MIN_SECRET_LEN = 4

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Remember a secret (an API key) so that `mask` hides it wherever it appears."""
    global _pattern
    if not value or len(value) < _MIN_SECRET_LEN:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def mask(text: str) -> str:
    """`text` with every registered secret replaced by ***."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


class SecretMaskingFilter(logging.Filter):
    """Rewrites a log record so no registered secret survives in its message or traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is None:
            return True
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


_LEAKY_LOGGERS = ("httpx", "httpcore")
_filter = SecretMaskingFilter()


def install_log_masking(*extra_loggers: str) -> None:
    """Attach the masking filter to loggers that log request URLs (httpx logs them at INFO)."""
    for name in (*_LEAKY_LOGGERS, *extra_loggers):
        logger = logging.getLogger(name)
        if _filter not in logger.filters:
            logger.addFilter(_filter)
