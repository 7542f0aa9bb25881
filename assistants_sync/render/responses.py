"""A manifest -> the Responses API request parameters that reproduce the assistant.

For teams leaving the Assistants API: the manifests stay the one source of truth while
application code moves to ``POST /responses``. What has no equivalent is said in
``notes`` rather than dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..desired.manifest import Desired
from ..kinds.assistant import ASSISTANT, CanonicalAssistant, normalise


def responses_requests(desired: Sequence[Desired]) -> dict[str, dict[str, Any]]:
    """Key -> `responses_request`, for each assistant among `desired` (other kinds have no Responses form)."""
    return {d.key: responses_request(d) for d in desired if d.kind == ASSISTANT.name}


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
        return {"type": "code_interpreter", "container": container}
    if kind == "file_search":
        converted: dict[str, Any] = {"type": "file_search",
                                     "vector_store_ids": list(resources.get("file_search", {}).get("vector_store_ids", []))}
        converted.update(tool.get("file_search", {}))
        if not converted["vector_store_ids"]:
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
