"""Writes the JSON Schema of every event to a folder, so the contract is reviewed and diffed."""

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import msgspec

from cryptohub.common import subjects
from cryptohub.common.events import EVENT_TYPES, ProviderStateRecord
from cryptohub.common.streams import PROVIDER_STATE_KV

__all__ = ["export", "main", "render"]

_README_HEAD = """\
# Event schemas

Generated from `cryptohub.common.events` by `make schemas`; do not edit by hand.
`libs/common/tests/test_schema_drift.py` fails when these files and the code disagree.

Every payload is a JSON object whose `type` field is the tag below. A field may be added
(last, with a default); renaming, removing or retyping one needs a new event on a `v2` subject.

| type | subject | description |
|---|---|---|
"""


def _tag(kind: type[msgspec.Struct]) -> str:
    return str(kind.__struct_config__.tag)


def _summary(kind: type[msgspec.Struct]) -> str:
    return (kind.__doc__ or "").strip().splitlines()[0]


def _row(kind: type[msgspec.Struct], where: str) -> str:
    return f"| [`{_tag(kind)}`]({_tag(kind)}.json) | {where} | {_summary(kind)} |"


def render() -> dict[str, str]:
    """Each file name and its content: one `<type>.json` per event, and `README.md`."""
    record = ProviderStateRecord
    rows = [_row(kind, f"`{subjects.pattern(kind)}`") for kind in EVENT_TYPES]
    rows.append(_row(record, f"KV bucket `{PROVIDER_STATE_KV.bucket}`, key = provider"))
    files: dict[str, str] = {}
    for kind in (*EVENT_TYPES, record):
        schema = msgspec.json.schema(kind)
        files[f"{_tag(kind)}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    files["README.md"] = _README_HEAD + "\n".join(rows) + "\n"
    return files


def export(directory: Path) -> list[Path]:
    """Write every schema and the README into `directory`; the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in render().items():
        path = directory / name
        path.write_bytes(content.encode())
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cryptohub.common.schema_export", description=__doc__
    )
    parser.add_argument("directory", type=Path, help="where to write (e.g. docs/events)")
    args = parser.parse_args(argv)
    export(args.directory)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
