"""Services are found through the ``cryptohub.services`` entry points of installed packages."""

import logging
from collections.abc import Sequence
from importlib.metadata import EntryPoint, entry_points

from cryptohub.cli.errors import UnknownServiceError

__all__ = ["GROUP", "discover", "run_service", "select"]

GROUP = "cryptohub.services"

log = logging.getLogger(__name__)


def discover() -> dict[str, EntryPoint]:
    """Every installed service by name, sorted: ``gateway = "cryptohub.gateway.__main__:main"``."""
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    return dict(sorted(found.items()))


def select(only: Sequence[str] | None) -> list[str]:
    """The service names to run: all installed ones, or ``only`` if given (each must exist)."""
    known = list(discover())
    if not only:
        return known
    for name in only:
        if name not in known:
            raise UnknownServiceError(name, known)
    return list(dict.fromkeys(only))


def run_service(name: str) -> int:
    """Import the service's ``main`` and run it in this process; its exit status."""
    services = discover()
    if name not in services:
        raise UnknownServiceError(name, list(services))
    main = services[name].load()
    log.debug("running service %s (%s)", name, services[name].value)
    result = main()
    return result if isinstance(result, int) else 0
