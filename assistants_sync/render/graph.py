"""Plans as pictures: the objects a plan changes and what they depend on, as Mermaid (for a pull request's
comment, which GitHub renders) or DOT (`plan --graph`, for Graphviz).

Both come from the dependency order apply follows (`Change.depends_on`, and
`planning.diff.stack_dependencies` for the objects a plan leaves alone): an edge
``A -> B`` says that A names B, so apply makes B first and deletes it last.
A node is marked with the plan's own symbol for its action; an object the plan does
not change is marked ``=`` (shown because a changed object depends on it), and one made
anew under its key while the old one goes (a replacement) ``-/+``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..kinds.base import DEFAULT_KIND
from ..planning.plan import SYMBOLS, Change, Plan

UNCHANGED = "unchanged"
_UNCHANGED_SYMBOL = "="
_REPLACED_SYMBOL = "-/+"  # Terraform's mark: made anew, the old one deleted (a new name)
_LONG_KEY = 24  # longer keys (an upload's sha256) are shortened in labels
MERMAID_MOST = 40  # changed objects a pull request's diagram shows at most
_MERMAID_STYLE = {"create": "fill:#dafbe1,stroke:#1a7f37", "adopt": "fill:#ddf4ff,stroke:#0969da",
                  "update": "fill:#fff8c5,stroke:#9a6700", "delete": "fill:#ffebe9,stroke:#cf222e",
                  UNCHANGED: "fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:3 3"}

Node = tuple[str, str]  # (kind, key)


@dataclass(frozen=True)
class Graph:
    """Objects (kind, key) with what happens to each (an action's value, or "unchanged"), and edges (a, b): a names b."""

    actions: Mapping[Node, str]
    symbols: Mapping[Node, str]
    names: Mapping[Node, str | None]
    edges: Sequence[tuple[Node, Node]]


def plan_graph(plan: Plan) -> Graph:
    """The objects `plan` changes, and the objects they depend on."""
    return _graph(plan.changes, {(c.kind, c.key): [(r.kind, r.key) for r in c.depends_on] for c in plan.changes})


def stack_graph(plan: Plan, dependencies: Mapping[Node, Sequence[Node]]) -> Graph:
    """Every object of the stack (`dependencies`: what each desired object names), marked by what `plan` does."""
    named = {**dependencies, **{(c.kind, c.key): [(r.kind, r.key) for r in c.depends_on]
                                for c in plan.changes if c.action.value == "delete"}}
    return _graph(plan.changes, named)


def _graph(changes: Sequence[Change], named: Mapping[Node, Sequence[Node]]) -> Graph:
    actions: dict[Node, str] = {}
    symbols: dict[Node, str] = {}
    names: dict[Node, str | None] = {}
    for change in changes:
        node = (change.kind, change.key)
        if node in actions:  # a second change of one key: a replacement's delete, or a duplicate's
            if actions[node] == "create" and change.action.value == "delete":
                symbols[node] = _REPLACED_SYMBOL
            continue
        actions[node], symbols[node], names[node] = change.action.value, SYMBOLS[change.action], change.name
    edges = sorted({(node, other) for node, others in named.items() for other in others if other != node})
    for node in sorted({*named, *(n for edge in edges for n in edge)}):
        if node not in actions:
            actions[node], symbols[node], names[node] = UNCHANGED, _UNCHANGED_SYMBOL, None
    ordered = dict(sorted(actions.items(), key=lambda item: (item[0][0] != DEFAULT_KIND, item[0])))
    return Graph(ordered, symbols, names, edges)


def label(graph: Graph, node: Node) -> str:
    """"+ support-bot", "~ vector_store product-docs", "+ file 1a2b3c4d5e6f… pricing.md"."""
    kind, key = node
    shown = key if len(key) <= _LONG_KEY else f"{key[:12]}…"
    text = f"{graph.symbols[node]} {shown if kind == DEFAULT_KIND else f'{kind} {shown}'}"
    name = graph.names.get(node)
    return f"{text} {name}" if name and shown != key else text


def render_mermaid(graph: Graph) -> str:
    """A Mermaid flowchart: node ids n0, n1, ... (keys may hold what Mermaid reads as syntax), labels quoted."""
    ids = {node: f"n{i}" for i, node in enumerate(graph.actions)}
    lines = ["flowchart LR"]
    lines += [f'  {ids[node]}["{_mermaid_text(label(graph, node))}"]' for node in graph.actions]
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in graph.edges]
    for action, style in _MERMAID_STYLE.items():
        members = [ids[node] for node, done in graph.actions.items() if done == action]
        if members:
            lines += [f"  classDef {action} {style}", f"  class {','.join(members)} {action}"]
    return "\n".join(lines) + "\n"


def mermaid_section(plan: Plan) -> str:
    """The diagram of a Markdown plan, or the sentence that stands for it; "" for a plan without changes."""
    if plan.is_empty:
        return ""
    changed = len(plan.changes)
    if changed > MERMAID_MOST:
        return (f"_The plan changes {changed} objects: more than the {MERMAID_MOST} a diagram shows, "
                "so there is none (`assistants-sync plan --graph` draws the whole stack)._\n\n")
    return f"```mermaid\n{render_mermaid(plan_graph(plan))}```\n\n"


def render_dot(graph: Graph, stack: str) -> str:
    """A Graphviz digraph: nodes named "kind/key" (quoted), labelled with the plan's symbols."""
    lines = [f"digraph {_dot_text(f'assistants-sync stack {stack}')} {{", "  rankdir=LR;",
             '  node [shape=box, fontname="Helvetica"];']
    for node, action in graph.actions.items():
        style = ', style=dashed' if action == UNCHANGED else ""
        lines.append(f"  {_dot_id(node)} [label={_dot_text(label(graph, node))}{style}];")
    lines += [f"  {_dot_id(a)} -> {_dot_id(b)};" for a, b in graph.edges]
    return "\n".join([*lines, "}"]) + "\n"


def _dot_id(node: Node) -> str:
    return _dot_text(f"{node[0]}/{node[1]}")


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _mermaid_text(text: str) -> str:
    # Mermaid reads entity codes inside a quoted label; a quote or a bracket of the key never ends it.
    return re.sub(r'["<>#]', lambda m: {'"': "#quot;", "<": "#lt;", ">": "#gt;", "#": "#35;"}[m.group()], text)
