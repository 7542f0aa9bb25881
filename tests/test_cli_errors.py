"""Every command turns library and system errors into one "Error: ..." line and exit 1.

`run` invokes the CLI with catch_exceptions=False: a traceback would fail the test.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from .conftest import run, write


def test_emulator_with_a_malformed_required_header_is_an_error_not_a_traceback() -> None:
    result = run("emulator", "--require-header", "bad", "--port", "0")
    assert result.exit_code == 1
    assert result.stderr == "Error: --header expects 'Name: value', got 'bad'...\n"
    assert result.stdout == ""


def test_emulator_on_a_port_in_use_is_an_error_not_a_traceback() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run("emulator", "--port", str(taken.getsockname()[1]))
    assert result.exit_code == 1
    assert result.stderr == "Error: Address already in use\n"


def test_render_and_demo_report_bad_manifests_the_same_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "specs" / "bad.yaml", "key: Bad Key\nmodel: gpt-4o\n")
    for args in (("render", "--format", "responses", "specs"), ("demo", "specs"), ("validate", "specs")):
        result = run(*args)
        assert result.exit_code == 1, args
        assert result.stderr.startswith("Error: "), args
        assert "specs/bad.yaml:1: " in result.stderr and "Traceback" not in result.stderr, args


def test_a_plan_saved_where_no_directory_exists_is_an_error(env: object, tmp_path: Path) -> None:
    write(tmp_path / "specs" / "a.yaml", "key: a\nmodel: gpt-4o\n")
    result = run("plan", str(tmp_path / "specs"), "--out", str(tmp_path / "missing" / "plan.json"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: No such file or directory: {tmp_path / 'missing'}")
