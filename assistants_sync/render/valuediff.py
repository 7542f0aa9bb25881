"""One field's before/after -> the few lines a reviewer needs to see. Pure.

- multi-line text: a unified line diff with a little context, cut when very large;
- long single-line text: only the part that differs, with some context;
- JSON values: one line per changed path (``response_format.json_schema.strict: ...``);
- tools: matched by identity (what the object's kind names a tool by, such as its
  function name), so inserting or reordering one tool shows just that, not every
  tool as changed.

Bookkeeping tags (the applied fingerprint) are left out: they record, not manage.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..ownership import without_applied_tag

Kind = Literal["plain", "added", "removed", "changed", "hunk", "note"]

CONTEXT_LINES = 2
MAX_DIFF_LINES = 40  # lines of one text diff before it is cut
MAX_BLOCK_LINES = 20  # lines of a new multi-line value shown in a create
LONG_LINE = 120  # single-line strings longer than this show only what differs
_LINE_CONTEXT = 30
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# What names one tool in a diff (a kind's `tool_identity`).
ToolIdentity = Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class DiffLine:
    kind: Kind
    text: str


@dataclass(frozen=True)
class DiffStyle:
    """How much of a multi-line text to show: context lines, and where to cut (None: never)."""

    context: int = CONTEXT_LINES
    max_lines: int | None = MAX_DIFF_LINES
    max_block_lines: int | None = MAX_BLOCK_LINES

    @classmethod
    def full(cls, context: int = CONTEXT_LINES) -> DiffStyle:
        """Nothing cut: every line of every hunk, every line of a new text."""
        return cls(context=context, max_lines=None, max_block_lines=None)


def value_lines(name: str, value: Any, style: DiffStyle = DiffStyle()) -> list[DiffLine]:
    """A field as set by a create: the value, multi-line text as a block."""
    if name == "metadata" and isinstance(value, dict):
        value = _visible_metadata(value)
    if isinstance(value, str) and "\n" in value:
        lines = value.splitlines()
        limit = len(lines) if style.max_block_lines is None else style.max_block_lines
        shown = [DiffLine("added", f"  | {line}") for line in lines[:limit]]
        if len(lines) > limit:
            shown.append(DiffLine("note", f"  ... {_count(len(lines) - limit, 'more line')} (--full-diff or "
                                          "--format json shows everything)"))
        return [DiffLine("added", f"{name}: ({_count(len(lines), 'line')})"), *shown]
    return [DiffLine("added", f"{name}: {to_json(value)}")]


def tool_type(tool: Mapping[str, Any]) -> str:
    """A tool named by its type alone (for an object of a kind not registered)."""
    return str(tool.get("type"))


def change_lines(name: str, before: Any, after: Any, style: DiffStyle = DiffStyle(),
                 tool_identity: ToolIdentity = tool_type) -> list[DiffLine]:
    """A field changed by an update or adopt; empty when only bookkeeping changed.

    `tool_identity` names each of the tools, which are matched by it.
    """
    if name == "metadata":
        before, after = _visible_metadata(before or {}), _visible_metadata(after or {})
        if before == after:
            return []
    if (before is None or isinstance(before, str)) and (after is None or isinstance(after, str)):
        return _text_lines(name, before, after, style)
    if name == "tools" and isinstance(before, list) and isinstance(after, list):
        return _tool_lines(before, after, tool_identity)
    if isinstance(before, (dict, list)) or isinstance(after, (dict, list)):
        return json_path_lines(name, before, after)
    return [DiffLine("changed", f"{name}: {to_json(before)} -> {to_json(after)}")]


def json_path_lines(prefix: str, before: Any, after: Any) -> list[DiffLine]:
    """One line per changed path between two JSON values."""
    if not isinstance(before, type(after)) or not isinstance(before, (dict, list)):
        return [DiffLine("changed", f"{prefix}: {to_json(before)} -> {to_json(after)}")]
    from deepdiff import DeepDiff  # imported here: it is slow to import and most runs never diff JSON

    diff = DeepDiff(before, after, view="tree", verbose_level=2)
    lines: list[tuple[list[Any], DiffLine]] = []
    for report, levels in diff.items():
        for level in levels:
            path = level.path(output_format="list")
            where = prefix + format_path(path)
            if report in ("dictionary_item_added", "iterable_item_added"):
                lines.append((path, DiffLine("added", f"+ {where}: {to_json(level.t2)}")))
            elif report in ("dictionary_item_removed", "iterable_item_removed"):
                lines.append((path, DiffLine("removed", f"- {where}: {to_json(level.t1)}")))
            else:
                lines.append((path, DiffLine("changed", f"{where}: {to_json(level.t1)} -> {to_json(level.t2)}")))
    return [line for _, line in sorted(lines, key=lambda item: [str(p) for p in item[0]])]


def format_path(path: list[Any]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and _IDENTIFIER.match(part):
            text += f".{part}"
        else:
            text += f"[{json.dumps(part)}]"
    return text


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _visible_metadata(metadata: dict[str, str]) -> dict[str, str]:
    return without_applied_tag(metadata)


def _text_lines(name: str, before: str | None, after: str | None, style: DiffStyle) -> list[DiffLine]:
    old, new = before or "", after or ""
    if "\n" in old or "\n" in new:
        diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=style.context))[2:]
        return [DiffLine("changed", f"{name}: (line diff)"), *_cut_diff(diff, style.max_lines)]
    if len(old) > LONG_LINE or len(new) > LONG_LINE:
        old_part, new_part = _differing_window(old, new)
        return [DiffLine("changed", f"{name}: {old_part} -> {new_part}")]
    return [DiffLine("changed", f"{name}: {to_json(before)} -> {to_json(after)}")]


def _cut_diff(diff: list[str], max_lines: int | None) -> list[DiffLine]:
    """A unified diff shown up to `max_lines` lines; past the cut, every hunk still shows its header.

    So an edit deep in a long text is never invisible: its @@ line says where it is.
    """
    if max_lines is None or len(diff) <= max_lines:
        return [DiffLine(_diff_kind(line), f"  {line}") for line in diff]
    rest = diff[max_lines:]
    headers = [DiffLine("hunk", f"  {line}") for line in rest if line.startswith("@@")]
    where = "; the hunks past the cut:" if headers else ""
    note = (f"  ... diff cut: {_count(len(rest) - len(headers), 'more line')} (--full-diff shows them, "
            f"--format json the whole text){where}")
    return [*(DiffLine(_diff_kind(line), f"  {line}") for line in diff[:max_lines]), DiffLine("note", note), *headers]


def _count(number: int, noun: str) -> str:
    """'1 line', '2 lines'."""
    return f"{number} {noun}{'s' if number != 1 else ''}"


def _differing_window(old: str, new: str) -> tuple[str, str]:
    """The differing middle of two long strings, with some context and ellipses."""
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    start = max(0, prefix - _LINE_CONTEXT)

    def window(text: str) -> str:
        end = min(len(text), len(text) - suffix + _LINE_CONTEXT)
        return ("…" if start else "") + to_json(text[start:end])[1:-1] + ("…" if end < len(text) else "")

    return f'"{window(old)}"', f'"{window(new)}"'


def _diff_kind(line: str) -> Kind:
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "added"
    if line.startswith("-"):
        return "removed"
    return "plain"


def _numbered_identities(tools: list[dict[str, Any]], tool_identity: ToolIdentity) -> list[str]:
    """Identities made unique: a second file_search tool is 'file_search #2'."""
    seen: Counter[str] = Counter()
    result = []
    for tool in tools:
        identity = tool_identity(tool)
        seen[identity] += 1
        result.append(identity if seen[identity] == 1 else f"{identity} #{seen[identity]}")
    return result


def _tool_lines(before: list[dict[str, Any]], after: list[dict[str, Any]],
               tool_identity: ToolIdentity) -> list[DiffLine]:
    old_ids, new_ids = _numbered_identities(before, tool_identity), _numbered_identities(after, tool_identity)
    old_by_id = dict(zip(old_ids, before, strict=True))
    lines: list[DiffLine] = []
    for index, (identity, tool) in enumerate(zip(new_ids, after, strict=True)):
        if identity not in old_by_id:
            lines.append(DiffLine("added", f"+ tools[{index}] ({identity}): {to_json(tool)}"))
        elif old_by_id[identity] != tool:
            lines.append(DiffLine("note", f"tools[{index}] ({identity}):"))
            lines += [DiffLine(line.kind, "  " + line.text)
                      for line in json_path_lines(f"tools[{index}]", old_by_id[identity], tool)]
    new_set = set(new_ids)
    lines += [DiffLine("removed", f"- tools[{index}] ({identity}): removed")
              for index, identity in enumerate(old_ids) if identity not in new_set]
    kept_old = [i for i in old_ids if i in new_set]
    kept_new = [i for i in new_ids if i in set(old_ids)]
    if kept_old != kept_new:
        lines.append(DiffLine("changed", f"tools order: {', '.join(kept_old)} -> {', '.join(kept_new)}"))
    return [DiffLine("changed", "tools:"), *[DiffLine(line.kind, "  " + line.text) for line in lines]]
