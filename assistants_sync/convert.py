"""`convert --to agent`: agent manifests from assistant manifests, with what is lost.

The Agents API is the successor of the Assistants API on OpenAI, but not every setting
of an assistant has an equivalent. Each assistant manifest becomes one agent manifest;
what cannot be carried over is listed per assistant with the reason (`Converted.losses`),
so a team sees what its migration loses before it applies anything. The manifests are
validated first (the same rules as `validate`); files they reference are copied.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .desired.manifest import load_manifests
from .desired.yamlload import documents
from .errors import ConfigError
from .kinds.base import DEFAULT_KIND

# Fields carried as they are (same name, same meaning) and those ignore_changes may name on both.
_CARRIED = ("key", "protect", "model", "name", "instructions", "instructions_file", "metadata")
_IGNORABLE = ("model", "name", "instructions", "tools", "metadata")
_NO_EQUIVALENT = {
    "description": "agents have no description",
    "tool_resources": "agents have no tool resources (no code interpreter files, no vector stores)",
    "temperature": "the Agents API has no sampling temperature",
    "top_p": "the Agents API has no top_p",
    "adopt": "it names an assistant id, not an agent",
    "previous_keys": "they name keys of assistants, not of agents",
}
EMPTY_PARAMETERS = {"type": "object", "properties": {}}


@dataclass
class Converted:
    """One agent manifest written from one assistant manifest."""

    source: str  # "path.yaml:LINE"
    key: str
    path: Path  # the agent manifest written
    losses: list[str] = field(default_factory=list)  # "field: reason"
    notes: list[str] = field(default_factory=list)  # carried over, with a change


def convert_to_agents(paths: Sequence[str | os.PathLike[str]], out_dir: Path, *, force: bool = False
                      ) -> list[Converted]:
    """Write an agent manifest per assistant manifest under `paths` into `out_dir`.

    Raises ManifestError for invalid manifests and ConfigError (nothing written) when a
    file to write exists, unless `force`.
    """
    desired = load_manifests(paths)  # every rule of `validate`, with file and line
    sources = {d.source for d in desired if d.kind == DEFAULT_KIND}
    planned: list[tuple[Converted, dict[str, Any], dict[Path, Path]]] = []
    for manifest_file in sorted({s.rsplit(":", 1)[0] for s in sources}):
        text = Path(manifest_file).read_text(encoding="utf-8")
        for _, node, data in documents(text):
            source = f"{manifest_file}:{node.start_mark.line + 1}"
            if source not in sources or not isinstance(data, dict):
                continue
            converted = Converted(source, data["key"], out_dir / f"{data['key']}.yaml")
            document, references = _agent_document(data, converted)
            copies = {out_dir / r: Path(manifest_file).parent / r for r in references}
            planned.append((converted, document, copies))
    targets = [c.path for c, _, _ in planned] + [t for _, _, copies in planned for t in copies]
    existing = [str(t) for t in targets if t.exists()]
    if existing and not force:
        raise ConfigError(f"convert would overwrite {len(existing)} existing file{'s' if len(existing) != 1 else ''}: "
                          f"{', '.join(existing[:10])}; nothing was written. Pass --force to overwrite them, "
                          "or choose another --out")
    for converted, document, copies in planned:
        converted.path.parent.mkdir(parents=True, exist_ok=True)
        header = f"# Converted by assistants-sync from the assistant manifest {converted.source}.\n"
        header += "".join(f"# Not carried over: {loss}\n" for loss in converted.losses)
        converted.path.write_text(header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100),
                                  encoding="utf-8")
        for target, origin in copies.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, target)
    return [c for c, _, _ in planned]


def _agent_document(data: dict[str, Any], converted: Converted) -> tuple[dict[str, Any], list[str]]:
    """The agent manifest for one assistant manifest's fields, and the files it references."""
    document: dict[str, Any] = {"kind": "agent"}
    references = [data["instructions_file"]] if data.get("instructions_file") else []
    for name in _CARRIED:
        if data.get(name) not in (None, False, {}, ""):
            document[name] = data[name]
    for name, reason in _NO_EQUIVALENT.items():
        if data.get(name) not in (None, [], {}, ""):
            converted.losses.append(f"{name}: {reason}")
    tools = []
    for index, tool in enumerate(data.get("tools") or []):
        converted_tool = _tool(tool, index, converted)
        if converted_tool is not None:
            tools.append(converted_tool)
            if "parameters_file" in converted_tool:
                references.append(converted_tool["parameters_file"])
    if tools:
        document["tools"] = tools
    if data.get("reasoning_effort"):
        document["reasoning"] = {"effort": data["reasoning_effort"]}
    text = _text(data.get("response_format"), converted)
    if text:
        document["text"] = text
    ignored = data.get("ignore_changes") or []
    kept = [f for f in ignored if f in _IGNORABLE]
    if "reasoning_effort" in ignored:
        kept.append("reasoning.effort")
    if "response_format" in ignored:
        kept.append("text")
    if kept:
        document["ignore_changes"] = kept
    for name in ignored:
        if name not in _IGNORABLE and name not in ("reasoning_effort", "response_format"):
            converted.notes.append(f"ignore_changes: {name} dropped (the agent has no such field)")
    return document, references


def _tool(tool: dict[str, Any], index: int, converted: Converted) -> dict[str, Any] | None:
    kind = tool.get("type")
    if kind == "code_interpreter":
        converted.losses.append(f"tools[{index}] code_interpreter: the Agents API has no code interpreter tool")
        return None
    if kind == "file_search":
        converted.losses.append(f"tools[{index}] file_search: the Agents API has no file search tool "
                                "(its vector store is not reachable from an agent)")
        return None
    function = tool.get("function") or {}
    flat: dict[str, Any] = {"type": "function", "name": function.get("name"),
                            "description": function.get("description") or ""}
    if not function.get("description"):
        converted.notes.append(f"tools[{index}] {flat['name']}: description set to \"\" (the Agents API requires one)")
    if function.get("parameters_file"):
        flat["parameters_file"] = function["parameters_file"]
    else:
        flat["parameters"] = function.get("parameters") or EMPTY_PARAMETERS
    if function.get("strict") is not None:
        converted.notes.append(f"tools[{index}] {flat['name']}: strict dropped (agent function tools have no strict)")
    return flat


def _text(response_format: Any, converted: Converted) -> dict[str, Any] | None:
    if response_format in (None, "auto"):
        return None
    kind = response_format.get("type")
    if kind == "text":
        return None  # the agent's default format
    if kind == "json_object":
        converted.losses.append("response_format json_object: agents answer text or a json_schema format; "
                                "give a JSON Schema to keep structured output")
        return None
    schema = response_format.get("json_schema") or {}
    dropped = [n for n in ("name", "description", "strict") if schema.get(n) is not None]
    if dropped:
        converted.notes.append(f"response_format: json_schema's {', '.join(dropped)} dropped "
                               "(an agent's text.format json_schema has only the schema)")
    return {"format": {"type": "json_schema", "schema": schema.get("schema") or {}}}
