"""`cryptohub up --replay` without DIR finds the repository's recorded bodies."""

from pathlib import Path

import pytest

from cryptohub.cli.__main__ import main
from cryptohub.cli.errors import CliError
from cryptohub.cli.fixtures import RECORDED, find_recorded


def test_finds_the_recorded_bodies_at_or_above_the_start(tmp_path: Path) -> None:
    folder = tmp_path / RECORDED
    folder.mkdir(parents=True)
    (folder / "routes.json").write_text("{}")
    deep = tmp_path / "services" / "gateway" / "src"
    deep.mkdir(parents=True)
    assert find_recorded([deep]) == folder
    assert find_recorded([tmp_path]) == folder


def test_tries_each_start_in_turn(tmp_path: Path) -> None:
    (tmp_path / "repo" / RECORDED).mkdir(parents=True)
    (tmp_path / "repo" / RECORDED / "routes.json").write_text("{}")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert find_recorded([elsewhere, tmp_path / "repo"]) == tmp_path / "repo" / RECORDED


def test_a_folder_without_routes_json_does_not_count_and_the_error_says_what_to_do(
    tmp_path: Path,
) -> None:
    (tmp_path / RECORDED).mkdir(parents=True)
    with pytest.raises(CliError, match=r"routes\.json.*--replay DIR"):
        find_recorded([tmp_path])


def test_from_this_checkout_the_default_is_the_repos_own_fixtures() -> None:
    found = find_recorded()
    assert (found / "routes.json").is_file()
    assert found.parts[-2:] == ("fixtures", "providers")


def test_replay_with_a_missing_dir_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["up", "--replay", str(tmp_path / "nope"), "--data-dir", str(tmp_path / "d")])
    assert exited.value.code == 1
    assert "not a directory" in capsys.readouterr().err
