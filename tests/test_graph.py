"""Plans as pictures: the Mermaid diagram of a Markdown plan and `plan --graph`'s DOT, parsed back."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from assistants_sync.emulator import EmulatorServer

from .conftest import ROOT, manifests, run

SYMBOL_OF = {"create": "+", "adopt": ">", "update": "~", "delete": "-"}


def _examples(tmp_path: Path) -> list[str]:
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    shutil.copytree(ROOT / "examples" / "agents", tmp_path / "agents")
    return [str(tmp_path / "specs"), str(tmp_path / "agents")]


def _mermaid(markdown: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """(node id -> label, edges) of the one Mermaid block in `markdown`."""
    [block] = re.findall(r"```mermaid\n(.*?)```", markdown, re.DOTALL)
    lines = block.splitlines()
    assert lines[0] == "flowchart LR"
    nodes = dict(re.findall(r'^  (n\d+)\["([^"]*)"\]$', block, re.MULTILINE))
    edges = re.findall(r"^  (n\d+) --> (n\d+)$", block, re.MULTILINE)
    declared = {line for line in lines[1:] if not line.startswith(("  classDef ", "  class "))}
    assert len(declared) == len(nodes) + len(edges)  # nothing else in it
    return nodes, edges


def _dot(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """(node name -> label, edges) of a DOT digraph."""
    assert text.startswith('digraph "assistants-sync stack default" {\n') and text.endswith("}\n")
    nodes = dict(re.findall(r'^  "([^"]+)" \[label="([^"]*)"(?:, style=dashed)?\];$', text, re.MULTILINE))
    edges = re.findall(r'^  "([^"]+)" -> "([^"]+)";$', text, re.MULTILINE)
    return nodes, edges


def _name(change: dict[str, object]) -> str:
    return f"{change.get('kind', 'assistant')}/{change['key']}"


def test_a_markdown_plan_draws_the_changed_objects_and_what_they_depend_on(env: EmulatorServer,
                                                                           tmp_path: Path) -> None:
    examples = _examples(tmp_path)
    document = json.loads(run("plan", "--format", "json", *examples).stdout)

    nodes, edges = _mermaid(run("plan", "--format", "markdown", *examples).stdout)

    assert all(a in nodes and b in nodes for a, b in edges)  # every edge names two declared nodes
    by_object = {}
    for change in document["changes"]:
        [node] = [n for n, label in nodes.items()
                  if label.split(" ")[0] == SYMBOL_OF[change["action"]] and change["key"][:12] in label]
        by_object[_name(change)] = node
    assert len(by_object) == len(nodes) == 8  # 3 assistants, an agent, a store, 3 uploads: each once
    expected = sorted((by_object[_name(c)], by_object[f"{r['kind']}/{r['key']}"])
                      for c in document["changes"] for r in c.get("depends_on", []))
    assert sorted(edges) == expected and expected  # the order apply follows, nothing else
    assert nodes[by_object["vector_store/product-docs"]] == "+ vector_store product-docs"


def test_an_object_the_plan_leaves_alone_is_drawn_unchanged_when_a_change_depends_on_it(
        env: EmulatorServer, tmp_path: Path) -> None:
    examples = _examples(tmp_path)
    assert run("apply", "--auto-approve", *examples).exit_code == 0
    support = tmp_path / "specs" / "support.yaml"
    support.write_text(support.read_text().replace("temperature: 0.3", "temperature: 0.5"))

    nodes, edges = _mermaid(run("plan", "--format", "markdown", *examples).stdout)

    assert sorted(nodes.values()) == ["= vector_store product-docs", "~ support-bot"]
    assert [(nodes[a], nodes[b]) for a, b in edges] == [("~ support-bot", "= vector_store product-docs")]


def test_a_plan_of_more_than_40_objects_says_so_instead_of_drawing(env: EmulatorServer, tmp_path: Path) -> None:
    markdown = run("plan", "--format", "markdown", str(manifests(tmp_path / "many", 41))).stdout

    assert "```mermaid" not in markdown
    assert ("_The plan changes 41 objects: more than the 40 a diagram shows, so there is none "
            "(`assistants-sync plan --graph` draws the whole stack)._") in markdown
    assert "```mermaid" in run("plan", "--format", "markdown", str(manifests(tmp_path / "forty", 40))).stdout


def test_graph_prints_the_whole_stack_in_dot_marked_by_the_plan(env: EmulatorServer, tmp_path: Path) -> None:
    examples = _examples(tmp_path)
    assert run("apply", "--auto-approve", *examples).exit_code == 0
    (tmp_path / "agents" / "support-agent.yaml").unlink()  # planned: delete the agent
    support = tmp_path / "specs" / "support.yaml"
    support.write_text(support.read_text().replace("temperature: 0.3", "temperature: 0.5"))

    result = run("plan", "--graph", *examples)

    assert result.exit_code == 0, result.output
    nodes, edges = _dot(result.stdout)
    assert all(a in nodes and b in nodes for a, b in edges)
    marks = {name: label.split(" ")[0] for name, label in nodes.items()}
    assert marks["assistant/support-bot"] == "~" and marks["agent/support-agent"] == "-"
    assert marks["assistant/weather"] == marks["vector_store/product-docs"] == "="
    assert len(nodes) == 8 and sum(name.startswith("file/") for name in nodes) == 3  # every object of the stack
    assert ("assistant/support-bot", "vector_store/product-docs") in edges
    assert sum(a == "vector_store/product-docs" for a, _ in edges) == 3  # the store names its three uploads


def test_graph_of_a_plan_that_fails_is_the_plans_own_error(env: EmulatorServer, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "bot.yaml").write_text("key: bot\nmodel: 42\n")

    graphed, planned = run("plan", "--graph", str(bad)), run("plan", str(bad))

    assert graphed.exit_code == planned.exit_code == 1
    assert graphed.stderr == planned.stderr and "bot.yaml" in graphed.stderr and graphed.stdout == ""
