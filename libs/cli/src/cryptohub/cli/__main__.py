"""The ``cryptohub`` command: ``up``, ``run <service>``, ``status``."""

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from cryptohub.cli.errors import CliError

__all__ = ["main"]

log = logging.getLogger("cryptohub.cli")

DEFAULT_DATA_DIR = Path(".cryptohub")
_RECORDED = object()  # `--replay` without DIR: the repository's own (not a str: no type=Path)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the command; the process exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "run":  # a service configures its own logging in its main()
        _configure_logging(args.verbose)
    # Imported per command: `run` (what a container runs) stays free of the embedded servers.
    try:
        if args.command == "up":
            from cryptohub.cli.fixtures import find_recorded
            from cryptohub.cli.up import up

            replay = find_recorded() if args.replay is _RECORDED else args.replay
            return up(data_dir=args.data_dir, replay_dir=replay, only=args.only)
        if args.command == "run":
            from cryptohub.cli.services import run_service

            return run_service(args.service)
        from cryptohub.cli.status import status

        return status(data_dir=args.data_dir, as_json=args.json)
    except CliError as exc:
        parser.exit(exc.exit_code, f"cryptohub {args.command}: {exc}\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cryptohub", description="Run CryptoHub: its infrastructure and its services."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser(
        "up", help="NATS, PostgreSQL and every service, supervised (Ctrl-C stops all)"
    )
    up.add_argument(
        "--replay",
        nargs="?",
        const=_RECORDED,
        type=Path,
        metavar="DIR",
        help="serve providers from recorded bodies in DIR (default: the repo's fixtures/providers)",
    )
    up.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="default: .cryptohub")
    up.add_argument("--only", nargs="+", metavar="SERVICE", help="run only these services")

    run = commands.add_parser("run", help="run one service in the foreground")
    run.add_argument("service")

    status = commands.add_parser("status", help="what `cryptohub up` runs, and its health")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="default: .cryptohub"
    )
    return parser


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


if __name__ == "__main__":
    sys.exit(main())
