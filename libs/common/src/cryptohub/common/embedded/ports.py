"""Loopback TCP ports: pick a free one, wait until one accepts connections."""

import socket
import time

__all__ = ["free_port", "port_accepts", "reserve_port", "wait_for_port"]


# Ports this process told some program to listen on (reserve_port), and ports free_port has
# handed out: the kernel may offer a port again until its new owner binds it.
_reserved: set[int] = set()
_handed_out: set[int] = set()
_TRIES = 200


def reserve_port(port: int) -> None:
    """Keep ``port`` out of what ``free_port`` hands out in this process: a port another
    program was told to use (the gateway's ``CRYPTOHUB_PORT``) but may not have bound yet."""
    _reserved.add(port)


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that nothing listens on right now.

    Never one reserved with ``reserve_port`` nor one already handed out by this process (two
    servers started side by side get two ports). The kernel picks it; another process may
    still take it before we bind it, which the embedded servers handle by retrying on a fresh
    port.
    """
    for _ in range(_TRIES):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port: int = sock.getsockname()[1]
        if port not in _reserved and port not in _handed_out:
            _handed_out.add(port)
            return port
    raise OSError(f"no free TCP port on {host} after {_TRIES} tries")


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether a TCP connection to ``host:port`` succeeds within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float) -> None:
    """Block until ``host:port`` accepts a TCP connection; ``TimeoutError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        if port_accepts(host, port, timeout=min(0.5, max(timeout, 0.01))):
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"nothing accepted connections on {host}:{port} within {timeout}s")
        time.sleep(0.02)
