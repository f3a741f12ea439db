from pathlib import Path

from cryptohub.common.schema_export import export

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "events"
FIX = "the event schemas changed: run `make schemas` and commit docs/events/"


def test_committed_schemas_match_the_code(tmp_path: Path) -> None:
    export(tmp_path)
    generated = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    committed = {path.name: path.read_bytes() for path in COMMITTED.iterdir() if path.is_file()}

    missing = sorted(generated.keys() - committed.keys())
    extra = sorted(committed.keys() - generated.keys())
    stale = sorted(
        name for name in generated.keys() & committed.keys() if generated[name] != committed[name]
    )
    assert not missing, f"{FIX} (missing: {missing})"
    assert not extra, f"{FIX} (no longer generated: {extra})"
    assert not stale, f"{FIX} (out of date: {stale})"


def test_every_schema_ends_with_one_newline(tmp_path: Path) -> None:
    for path in export(tmp_path):
        content = path.read_bytes()
        assert content.endswith(b"\n")
        assert not content.endswith(b"\n\n")
