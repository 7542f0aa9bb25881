"""`convert --to agent`: agent manifests from assistant manifests, with what is lost.

The Agents API is the successor of the Assistants API on OpenAI, but not every setting
of an assistant has an equivalent. Each assistant manifest becomes one agent manifest;
what cannot be carried over is listed per assistant with the reason (`Converted.losses`),
so a team sees what its migration loses before it applies anything. The manifests are
read as `plan` reads them (the project file's defaults merged in, ``${NAME}`` variables
filled in) and validated first (the same rules as `validate`); files they reference are
copied.

Agents take no defaults, so the defaults an assistant got from the project file are
written into its agent manifest. A string written with ``${NAME}`` is written as it was
(an environment's values, secrets among them, never land in a file; the agent manifest
plans with each environment's variables as the assistant one did); its value decides
what is converted.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .desired.manifest import load_manifests, with_defaults
from .kinds import defaults_taken, get_kind
from .desired.yamlload import documents
from .errors import ConfigError, NoManifestsError
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
FOUNDRY = "foundry_agent"
# For foundry_agent: fields carried as they are, those with no counterpart, and the ignorable ones.
_FOUNDRY_CARRIED = ("key", "protect", "description", "model", "instructions", "instructions_file", "temperature",
                    "top_p", "metadata")
_FOUNDRY_NO_EQUIVALENT = {
    "adopt": "it names a classic assistant's id, not a Foundry agent's name",
    "previous_keys": "they name keys of assistants, not of Foundry agents",
}
_FOUNDRY_IGNORABLE = {"model": "model", "name": None, "description": "description", "instructions": "instructions",
                      "tools": "tools", "tool_resources": "tools", "temperature": "temperature", "top_p": "top_p",
                      "reasoning_effort": "reasoning", "response_format": "text"}
_LONE_VARIABLE = re.compile(r"\$\{[^}]*\}")


@dataclass
class Converted:
    """One agent manifest written from one assistant manifest."""

    source: str  # "path.yaml:LINE"
    key: str
    path: Path  # the agent manifest written
    losses: list[str] = field(default_factory=list)  # "field: reason"
    notes: list[str] = field(default_factory=list)  # carried over, with a change
    from_defaults: list[str] = field(default_factory=list)  # fields the project file's defaults set or added to


@dataclass
class Conversion:
    """What `convert_to_agents` wrote, and the manifests of other kinds it left where they are."""

    converted: list[Converted]
    others: list[str]  # "vector_store kb (specs/kb.yaml:1)": not converted, still wanted


def convert_to_agents(paths: Sequence[str | os.PathLike[str]], out_dir: Path, *, force: bool = False,
                      defaults: Mapping[str, Any] | None = None, variables: Mapping[str, str] | None = None,
                      project_file: str | os.PathLike[str] | None = None,
                      written_defaults: Mapping[str, Any] | None = None, to_kind: str = "agent") -> Conversion:
    """Write an agent manifest (`to_kind`: ``agent`` or ``foundry_agent``) per assistant manifest under `paths`
    into `out_dir`.

    `defaults`, `variables` and `project_file` are load_manifests'; `written_defaults`
    are the defaults as the project file writes them, ``${NAME}`` kept (default: `defaults`).
    Raises ManifestError for invalid manifests and ConfigError (nothing written) when a
    file to write exists, unless `force`.
    """
    desired = load_manifests(paths, defaults=defaults, variables=variables, project_file=project_file)
    sources = {d.source for d in desired if d.kind == DEFAULT_KIND}
    assistant = get_kind(DEFAULT_KIND)
    if not sources:  # nothing to convert is a mistyped path, not a success
        raise NoManifestsError([str(p) for p in paths], "convert reads assistant manifests", nouns=assistant.noun)
    defaults = defaults_taken(assistant, defaults or {})  # those an assistant manifest takes, as plan merges them
    written_defaults = defaults if written_defaults is None else defaults_taken(assistant, written_defaults)
    order = {name: index for index, name in enumerate(written_defaults)}
    planned: list[tuple[Converted, dict[str, Any], dict[Path, Path]]] = []
    names = AgentNames()
    for manifest_file in sorted({s.rsplit(":", 1)[0] for s in sources}):
        for line, data, as_written in _documents(manifest_file, variables):
            source = f"{manifest_file}:{line}"
            if source not in sources or not isinstance(data, dict):
                continue
            merged = with_defaults(data, defaults)  # what plan validates
            written = _as_written(merged, with_defaults(as_written, written_defaults))
            converted = Converted(source, merged["key"], out_dir / f"{merged['key']}.yaml")
            converted.from_defaults = sorted((n for n in defaults if merged.get(n) != data.get(n)),
                                             key=lambda n: order.get(n, len(order)))
            document, references = (_foundry_document(merged, written, converted, names) if to_kind == FOUNDRY
                                    else _agent_document(merged, written, converted))
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
        converted.path.write_text(_header(converted, project_file) + yaml.dump(
            document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
        for target, origin in copies.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, target)
    others = [f"{d.kind} {d.key} ({d.source})" for d in desired if d.kind != DEFAULT_KIND]
    return Conversion([c for c, _, _ in planned], others)


def _documents(manifest_file: str, variables: Mapping[str, str] | None) -> Iterator[tuple[int, Any, Any]]:
    """(first line, data with variables filled in, data as written) of each document of a (valid) manifest file."""
    text = Path(manifest_file).read_text(encoding="utf-8")
    for (_, node, data), (_, _, as_written) in zip(documents(text, variables), documents(text)):
        yield node.start_mark.line + 1, data, as_written


def _header(converted: Converted, project_file: str | os.PathLike[str] | None) -> str:
    header = f"# Converted by assistants-sync from the assistant manifest {converted.source}.\n"
    if converted.from_defaults:
        where = f" ({os.path.relpath(project_file)})" if project_file is not None else ""
        header += f"# From the project file's defaults{where}: {', '.join(converted.from_defaults)}\n"
    return (header + "".join(f"# Not carried over: {loss}\n" for loss in converted.losses)
            + "".join(f"# Changed: {note}\n" for note in converted.notes))


class _Written(str):
    """A string holding ``${NAME}`` variables, as the manifest (or the project file) writes it."""


class _QuotedString(_Written):
    """A lone ``${NAME}`` whose value is a string: quoted, so that any value stays a string."""


class _Dumper(yaml.SafeDumper):
    """safe_dump's dumper, which also writes the strings of `_as_written`.

    A lone variable whose value is not a string is written plain, so it is read with its
    YAML type again (``protect: ${PROTECT:-false}``).
    """


_Dumper.add_representer(_Written, lambda dumper, text: dumper.represent_str(str(text)))
_Dumper.add_representer(_QuotedString, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", str(text), style="'"))


def _as_written(value: Any, written: Any) -> Any:
    """`value` (what plan sees), each string written with variables as `written` (the same document) has it.

    Variables fill in values, never structure, so both have one shape; where they part
    (a null default, a variable in a mapping key), `value` is kept.
    """
    if isinstance(value, dict) and isinstance(written, dict):
        return {k: _as_written(v, written.get(k, v)) for k, v in value.items()}
    if isinstance(value, list) and isinstance(written, list) and len(value) == len(written):
        return [_as_written(v, w) for v, w in zip(value, written)]
    if isinstance(written, str) and "$" in written and written != value:
        lone_string = isinstance(value, str) and _LONE_VARIABLE.fullmatch(written)
        return _QuotedString(written) if lone_string else _Written(written)
    return value


def _set(value: Any, written: Any, empty: tuple[Any, ...]) -> bool:
    """Set to something here, or written with a variable that may set it in another environment."""
    return value not in empty or isinstance(written, _Written)


def _agent_document(data: dict[str, Any], written: dict[str, Any], converted: Converted
                    ) -> tuple[dict[str, Any], list[str]]:
    """The agent manifest for one assistant manifest's fields, and the files it references.

    `data` decides (the values plan sees); what is written comes from `written` (see `_as_written`).
    """
    document: dict[str, Any] = {"kind": "agent"}
    references = [data["instructions_file"]] if data.get("instructions_file") else []
    for name in _CARRIED:
        if _set(data.get(name), written.get(name), (None, False, {}, "")):
            document[name] = written[name]
    for name, reason in _NO_EQUIVALENT.items():
        if _set(data.get(name), written.get(name), (None, [], {}, "")):
            converted.losses.append(f"{name}: {reason}")
    tools = []
    for index, (tool, written_tool) in enumerate(zip(data.get("tools") or [], written.get("tools") or [])):
        converted_tool = _tool(tool, written_tool, index, converted)
        if converted_tool is not None:
            tools.append(converted_tool)
            if "parameters_file" in converted_tool:
                references.append(tool["function"]["parameters_file"])
    if tools:
        document["tools"] = tools
    if _set(data.get("reasoning_effort"), written.get("reasoning_effort"), (None, "")):
        document["reasoning"] = {"effort": written["reasoning_effort"]}
    text = _text(data.get("response_format"), written.get("response_format"), converted)
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


def _tool(tool: dict[str, Any], written: dict[str, Any], index: int, converted: Converted) -> dict[str, Any] | None:
    kind = tool.get("type")
    if kind == "code_interpreter":
        converted.losses.append(f"tools[{index}] code_interpreter: the Agents API has no code interpreter tool")
        return None
    if kind == "file_search":
        converted.losses.append(f"tools[{index}] file_search: the Agents API has no file search tool "
                                "(its vector store is not reachable from an agent)")
        return None
    function = tool.get("function") or {}
    written_function = written.get("function") or {}
    flat: dict[str, Any] = {"type": "function", "name": written_function.get("name"),
                            "description": written_function.get("description") or ""}
    if not flat["description"]:
        converted.notes.append(f"tools[{index}] {function.get('name')}: description set to \"\" "
                               "(the Agents API requires one)")
    if function.get("parameters_file"):
        flat["parameters_file"] = written_function["parameters_file"]
    else:
        flat["parameters"] = written_function.get("parameters") or EMPTY_PARAMETERS
    if function.get("strict") is not None:
        converted.notes.append(f"tools[{index}] {function.get('name')}: strict dropped "
                               "(agent function tools have no strict)")
    return flat


def _text(response_format: Any, written: Any, converted: Converted) -> dict[str, Any] | None:
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
    return {"format": {"type": "json_schema", "schema": (written.get("json_schema") or {}).get("schema") or {}}}


class AgentNames:
    """The Foundry agent names given so far in one conversion (unique in a project)."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def name_for(self, wanted: str, key: str, converted: Converted) -> str:
        """A valid, unique agent name from an assistant's name (or its key); every change of it noted."""
        from .kinds.foundry_agent import NAME_MAX, is_agent_name

        base = _agent_name(wanted) or _agent_name(key) or "agent"
        truncated = base[:NAME_MAX].rstrip("-")
        name, number = truncated, 1
        while name in self.taken:
            number += 1
            suffix = f"-{number}"
            name = truncated[:NAME_MAX - len(suffix)].rstrip("-") + suffix
        assert is_agent_name(name), name
        self.taken.add(name)
        if name != wanted:
            why = ("taken by another converted manifest" if name != truncated else
                   f"cut to {NAME_MAX} characters" if truncated != base else
                   "a Foundry agent's name has only letters, digits and hyphens")
            converted.notes.append(f"name: {wanted!r} -> {name!r} ({why})")
        return name


_SPELLED_OUT = str.maketrans({"æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
                              "ħ": "h", "ŧ": "t", "ŀ": "l"})


def _agent_name(text: str) -> str:
    # Accents are taken off rather than the letters dropped: NFKD splits "é" into "e" and its accent (and "𝐒" into
    # "S"), casefold then makes "ß" "ss", and the Latin letters with no decomposition are spelled out.
    letters = unicodedata.normalize("NFKD", text.strip()).casefold().translate(_SPELLED_OUT)
    lowered = re.sub(r"[\s_.]+", "-", letters)
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "", lowered)).strip("-")


def _foundry_document(data: dict[str, Any], written: dict[str, Any], converted: Converted, names: AgentNames
                      ) -> tuple[dict[str, Any], list[str]]:
    """The foundry_agent manifest for one assistant manifest's fields, and the files it references."""
    document: dict[str, Any] = {"kind": FOUNDRY}
    references = [data["instructions_file"]] if data.get("instructions_file") else []
    for name in _FOUNDRY_CARRIED:
        if _set(data.get(name), written.get(name), (None, False, {}, "")):
            document[name] = written[name]
    document = {"kind": FOUNDRY, "key": document.pop("key"),
                "name": names.name_for(str(data.get("name") or data["key"]), data["key"], converted), **document}
    for name, reason in _FOUNDRY_NO_EQUIVALENT.items():
        if _set(data.get(name), written.get(name), (None, [], {}, "")):
            converted.losses.append(f"{name}: {reason}")
    resources = written.get("tool_resources") or {}
    tools: list[dict[str, Any]] = []
    for index, (tool, written_tool) in enumerate(zip(data.get("tools") or [], written.get("tools") or [])):
        kind = tool.get("type")
        if kind == "function":
            function = written_tool.get("function") or {}
            flat = {"type": "function", "name": function.get("name")}
            for field_name in ("description", "parameters", "parameters_file", "strict"):
                if function.get(field_name) is not None:
                    flat[field_name] = function[field_name]
            if "parameters_file" in flat:
                references.append(tool["function"]["parameters_file"])
            tools.append(flat)
        elif kind == "file_search":
            search = resources.get("file_search") or {}
            options = written_tool.get("file_search") or {}
            converted_tool = {"type": "file_search",
                              **{k: search[k] for k in ("vector_stores", "vector_store_ids") if search.get(k)},
                              **{k: options[k] for k in ("max_num_results", "ranking_options") if options.get(k)}}
            if not search.get("vector_stores") and not search.get("vector_store_ids"):
                converted.losses.append(f"tools[{index}] file_search: it names no vector store "
                                        "(tool_resources.file_search), and a Foundry agent's file_search needs one")
                continue
            tools.append(converted_tool)
        elif kind == "code_interpreter":
            interpreter = resources.get("code_interpreter") or {}
            references += list((data.get("tool_resources") or {}).get("code_interpreter", {}).get("files") or [])
            tools.append({"type": "code_interpreter",
                          **{k: interpreter[k] for k in ("files", "file_ids") if interpreter.get(k)}})
    if tools:
        document["tools"] = tools
    if _set(data.get("reasoning_effort"), written.get("reasoning_effort"), (None, "")):
        from .kinds.foundry_agent import REASONING_EFFORTS

        if data.get("reasoning_effort") in REASONING_EFFORTS or isinstance(written["reasoning_effort"], _Written):
            document["reasoning"] = {"effort": written["reasoning_effort"]}
        else:
            converted.losses.append(f"reasoning_effort: {data['reasoning_effort']!r} has no counterpart (a Foundry "
                                    f"agent's effort is one of {', '.join(REASONING_EFFORTS)})")
    text = _foundry_text(data.get("response_format"), written.get("response_format"))
    if text:
        document["text"] = text
    ignored = data.get("ignore_changes") or []
    kept = list(dict.fromkeys(_FOUNDRY_IGNORABLE[f] for f in ignored if _FOUNDRY_IGNORABLE.get(f)))
    if kept:
        document["ignore_changes"] = kept
    for name in ignored:
        if not _FOUNDRY_IGNORABLE.get(name):
            converted.notes.append(f"ignore_changes: {name} dropped (a Foundry agent's name is its identity)")
    return document, references


def _foundry_text(response_format: Any, written: Any) -> dict[str, Any] | None:
    if response_format in (None, "auto") or response_format.get("type") == "text":
        return None
    if response_format.get("type") == "json_object":
        return {"format": {"type": "json_object"}}
    schema = written.get("json_schema") or {}
    return {"format": {"type": "json_schema", **{k: schema[k] for k in ("name", "schema", "description", "strict")
                                                  if schema.get(k) is not None}}}

