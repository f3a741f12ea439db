"""Errors raised by the embedded NATS and PostgreSQL servers."""

__all__ = ["EmbeddedServerError"]


class EmbeddedServerError(RuntimeError):
    """An embedded server failed to install, start or stop.

    ``log_tail`` holds the last lines the server wrote, ``returncode`` its exit
    status when it died, ``log_path`` the full log.
    """

    def __init__(
        self,
        server: str,
        message: str,
        *,
        log_tail: str = "",
        returncode: int | None = None,
        log_path: str | None = None,
    ) -> None:
        self.server = server
        self.message = message
        self.log_tail = log_tail
        self.returncode = returncode
        self.log_path = log_path
        text = f"{server}: {message}"
        if returncode is not None:
            text += f" (exit status {returncode})"
        if log_path is not None:
            text += f"; log: {log_path}"
        if log_tail:
            text += f"\n--- last output ---\n{log_tail}"
        super().__init__(text)
