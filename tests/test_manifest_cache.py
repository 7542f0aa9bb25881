"""The cache of parsed manifests: it saves parsing, and nothing it holds can change a result."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from assistants_sync.desired.manifest import load_manifests
from assistants_sync.desired.manifest_cache import CACHE_MIN_FILES

from .conftest import run, write

COUNT = CACHE_MIN_FILES + 10


@pytest.fixture
def cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("ASSISTANTS_SYNC_CACHE_DIR", str(directory))
    monkeypatch.delenv("MODEL", raising=False)
    monkeypatch.chdir(tmp_path)
    return directory


def many(specs: Path, body: str = "model: m\ninstructions_file: prompt.md\n") -> Path:
    write(specs / "prompt.md", "Be brief.")
    for i in range(COUNT):
        write(specs / f"bot-{i:03d}.yaml", f"key: bot-{i:03d}\n{body}")
    return specs


def cache_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("manifests-*.json")) if directory.exists() else []


def test_a_second_run_uses_the_cache_and_still_sees_every_edit(cache_dir: Path, tmp_path: Path) -> None:
    specs = many(tmp_path / "specs")
    assert run("validate", str(specs)).stdout == f"{COUNT} assistant manifests valid.\n"
    [cache] = cache_files(cache_dir)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700 and stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert len(json.loads(cache.read_text())["entries"]) == COUNT

    write(specs / "bot-007.yaml", "key: bot-007\nmodel: m\ntemperature: 5\n")
    result = run("validate", str(specs))
    assert result.exit_code == 1
    assert f"{specs / 'bot-007.yaml'}:3: document 1 (key 'bot-007'): temperature: " in result.stderr

    (specs / "prompt.md").unlink()  # cached files now fail validation: their messages are the usual ones
    cached = run("validate", str(specs)).stderr
    assert f"{specs / 'bot-000.yaml'}:3: document 1 (key 'bot-000'): instructions_file: prompt.md: file not found" \
        in cached
    assert cached.startswith(f"Error: {COUNT} problems in the manifests:")


def test_no_result_depends_on_what_was_cached_from_other_variables_or_defaults(cache_dir: Path, tmp_path: Path
                                                                               ) -> None:
    with_variable = many(tmp_path / "a", "model: ${MODEL}\n")
    escaped = many(tmp_path / "escaped", 'model: "\\x24{MODEL}"\n')  # "$" spelt as an escape
    for model in ("gpt-4o", "sk-secret-value-1234", "o3"):
        for specs in (with_variable, escaped):
            assert {d.request["model"] for d in load_manifests([specs], variables={"MODEL": model})} == {model}
    assert all("sk-secret" not in f.read_text() for f in cache_files(cache_dir))

    without_model = many(tmp_path / "b", "name: Bot\n")
    for model in ("gpt-4o", "o3"):
        assert {d.request["model"] for d in load_manifests([without_model], defaults={"model": model})} == {model}


def test_a_wrong_or_broken_cache_cannot_change_a_result(cache_dir: Path, tmp_path: Path) -> None:
    specs = many(tmp_path / "specs")
    expected = load_manifests([specs])
    [cache] = cache_files(cache_dir)
    saved = json.loads(cache.read_text())
    for entry in saved["entries"].values():  # a cache claiming every file sets an invalid temperature
        entry[0][2]["temperature"] = 5
    cache.write_text(json.dumps(saved))
    assert load_manifests([specs]) == expected
    cache.write_text("{not json")
    assert load_manifests([specs]) == expected


def test_a_cache_directory_others_may_write_to_is_not_used(cache_dir: Path, tmp_path: Path) -> None:
    cache_dir.mkdir()
    cache_dir.chmod(0o777)
    load_manifests([many(tmp_path / "specs")])
    assert cache_files(cache_dir) == []


def test_the_cache_can_be_turned_off_and_small_loads_do_not_use_it(cache_dir: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "few" / "bot.yaml", "key: bot\nmodel: m\n")
    load_manifests([tmp_path / "few"])
    assert not cache_dir.exists()
    monkeypatch.setenv("ASSISTANTS_SYNC_CACHE_DIR", "off")
    load_manifests([many(tmp_path / "specs")])
    assert not cache_dir.exists()
