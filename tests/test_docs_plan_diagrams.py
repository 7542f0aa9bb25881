"""docs/guides/plan-diagrams.md: the graph it shows is what `plan --graph` prints."""

from __future__ import annotations

from pathlib import Path

from .docs_outputs import check_shown
from .test_docs_site import applied, here, ran

__all__ = ["applied", "here"]  # fixtures


def test_the_graph_of_the_example_stack_after_an_edit(applied: Path) -> None:
    support = applied / "support.yaml"
    support.write_text(support.read_text().replace("temperature: 0.3", "temperature: 0.5"))
    check_shown("plan-graph", **ran("assistants-sync plan specs --graph", exit_code=0))
