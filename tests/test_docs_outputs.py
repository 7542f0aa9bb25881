"""Every command output the documentation shows is named, and a test holds each to the tool's output."""

from __future__ import annotations

import re

from .docs_outputs import ROOT, check_shown, normalised, shown_outputs, unnamed_blocks


def test_every_console_block_is_a_named_output() -> None:
    assert unnamed_blocks() == []


def test_every_named_output_is_checked_by_a_test() -> None:
    tests = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "tests").rglob("test_*.py"))
    checked = set(re.findall(r"""check_shown\(\s*["']([a-z0-9-]+)["']""", tests))
    assert sorted(set(shown_outputs()) - checked) == []


def test_what_varies_between_runs_is_masked_and_nothing_else() -> None:
    assert normalised("+ asst_V65450VZlvl3huFUFtd7KXHK in 0.31 s, pid 28895 \n") == "+ asst_… in N s, pid N"
    assert normalised("Plan: 3 to create") == "Plan: 3 to create"


def test_a_differing_output_fails_naming_the_page(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from . import docs_outputs

    fake = {"demo": docs_outputs.Shown("docs/x.md", "assistants-sync plan specs", "Plan: 1 to create")}
    monkeypatch.setattr(docs_outputs, "shown_outputs", lambda: fake)
    check_shown("demo", "Plan: 1 to create\n", command="assistants-sync plan specs")
    with pytest.raises(AssertionError, match="docs/x.md"):
        check_shown("demo", "Plan: 2 to create")
    with pytest.raises(AssertionError, match="the test ran"):
        check_shown("demo", "Plan: 1 to create", command="assistants-sync apply specs")
