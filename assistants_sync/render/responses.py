"""A manifest -> the Responses API request parameters that reproduce the assistant.

For teams leaving the Assistants API: the manifests stay the one source of truth while
application code moves to ``POST /responses``. What has no equivalent is said in
``notes`` rather than dropped silently.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..desired.manifest import Desired
from ..errors import ConfigError
from ..kinds import get_kind
from ..kinds.assistant import ASSISTANT, CanonicalAssistant, normalise
from ..redact import Redactor


def responses_requests(desired: Sequence[Desired]) -> dict[str, dict[str, Any]]:
    """Key -> `responses_request`, for each assistant among `desired` (other kinds have no Responses form)."""
    return {d.key: responses_request(d) for d in desired if d.kind == ASSISTANT.name}


def not_rendered(desired: Sequence[Desired]) -> list[str]:
    """A line for each manifest of `desired` without a Responses form, naming its kind, key and place.

    ConfigError when no manifest has one: there would be nothing to render.
    """
    lines = [f"{get_kind(d.kind).noun} {d.key} ({d.source}): only {ASSISTANT.noun} manifests have a Responses form"
             for d in desired if d.kind != ASSISTANT.name]
    if desired and len(lines) == len(desired):
        raise ConfigError(f"nothing to render: {'; '.join(lines)}")
    return lines


def write_responses(desired: Sequence[Desired], out_dir: Path, *, force: bool = False,
                    redactor: Redactor | None = None) -> list[Path]:
    """Write one KEY.json per assistant of `desired` into `out_dir`; the files written.

    Refuses (ConfigError, nothing written) a request holding a secret `redactor` knows
    (a file never holds one, and a masked request would not be the manifest's), and a
    file that exists, unless `force`.
    """
    rendered = responses_requests(desired)
    if redactor is not None:
        leaking = [f"{d.key} ({d.source})" for d in desired if d.key in rendered and redactor.reveals(rendered[d.key])]
        if leaking:
            raise ConfigError(
                f"not writing the Responses requests to {out_dir}: the request{'s' if len(leaking) > 1 else ''} of "
                f"{', '.join(leaking)} {'hold' if len(leaking) > 1 else 'holds'} the API key or a header value, and "
                "a file never holds a secret; take the secret out of the manifest. Nothing was written"
            )
    paths = {key: out_dir / f"{key}.json" for key in rendered}
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and not force:
        more = f" and {len(existing) - 10} more" if len(existing) > 10 else ""
        raise ConfigError(
            f"render would overwrite {len(existing)} existing file{'s' if len(existing) != 1 else ''}: "
            f"{', '.join(existing[:10])}{more}; nothing was written. Pass --force to overwrite them, "
            "or choose another --out"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    for key, document in rendered.items():
        paths[key].write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return list(paths.values())


def responses_request(desired: Desired) -> dict[str, Any]:
    """{"key", "request": Responses parameters, "notes": [what did not carry over, and why]}."""
    assistant = normalise(desired.request)  # canonical, without this tool's tags
    request: dict[str, Any] = {"model": assistant.model}
    notes: list[str] = []
    if assistant.instructions:
        request["instructions"] = assistant.instructions
    tools = [_tool(tool, assistant, notes) for tool in assistant.tools]
    if tools:
        request["tools"] = tools
    if assistant.tool_resources:
        notes.append("tool_resources have no request-level equivalent in the Responses API: their file ids and "
                     "vector stores are carried by the tools above, and are sent with every request")
    text_format = _text_format(assistant.response_format)
    if text_format is not None:
        request["text"] = {"format": text_format}
    if assistant.reasoning_effort:
        request["reasoning"] = {"effort": assistant.reasoning_effort}
    if assistant.temperature is not None:
        request["temperature"] = assistant.temperature
    if assistant.top_p is not None:
        request["top_p"] = assistant.top_p
    if assistant.metadata:
        request["metadata"] = dict(assistant.metadata)
    dropped = [name for name in ("name", "description") if getattr(assistant, name)]
    if dropped:
        verb = "have" if len(dropped) > 1 else "has"
        notes.append(f"{' and '.join(dropped)} {verb} no Responses equivalent: a response is not a stored object; "
                     "keep them in your application (or in metadata)")
    return {"key": desired.key, "request": request, "notes": notes}


def _tool(tool: dict[str, Any], assistant: CanonicalAssistant, notes: list[str]) -> dict[str, Any]:
    kind = tool.get("type")
    resources = assistant.tool_resources
    if kind == "code_interpreter":
        container: dict[str, Any] = {"type": "auto"}
        file_ids = resources.get("code_interpreter", {}).get("file_ids", [])
        if file_ids:
            container["file_ids"] = list(file_ids)
        uploaded = resources.get("code_interpreter", {}).get("files", [])
        if uploaded:
            notes.append(f"code_interpreter: {len(uploaded)} file{'s' if len(uploaded) != 1 else ''} of the repository "
                         "named by path have no id before the stack's apply uploads them; add their ids to "
                         "container.file_ids")
        return {"type": "code_interpreter", "container": container}
    if kind == "file_search":
        converted: dict[str, Any] = {"type": "file_search",
                                     "vector_store_ids": list(resources.get("file_search", {}).get("vector_store_ids", []))}
        converted.update(tool.get("file_search", {}))
        for key in resources.get("file_search", {}).get("vector_stores", []):
            notes.append(f"file_search: the vector store {key!r} is named by key; add the id the stack's apply gave "
                         "it to vector_store_ids")
        if not converted["vector_store_ids"] and not resources.get("file_search", {}).get("vector_stores"):
            notes.append("file_search: the Responses API needs vector_store_ids on the tool, and this assistant "
                         "attaches none; add them per request")
        return converted
    if kind == "function":
        function = tool["function"]
        converted = {"type": "function", "name": function["name"]}
        if function.get("description"):
            converted["description"] = function["description"]
        converted["parameters"] = function.get("parameters") or {"type": "object", "properties": {}}
        # Responses function tools are strict unless told otherwise; Assistants' are not.
        converted["strict"] = bool(function.get("strict"))
        return converted
    notes.append(f"tool type {kind!r} is copied as it is: check its Responses form")
    return dict(tool)


def _text_format(response_format: Any) -> dict[str, Any] | None:
    if response_format is None:
        return None
    if response_format.get("type") != "json_schema":
        return {"type": response_format["type"]}
    schema = response_format["json_schema"]
    # Responses flattens json_schema: {type, name, schema, strict, description}.
    return {"type": "json_schema", **{k: schema[k] for k in ("name", "description", "schema", "strict") if k in schema}}
