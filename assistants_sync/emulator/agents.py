"""The Agents API (beta) of the emulator: reusable agents at /v1/agents, without HTTP.

Shapes and server defaults come from the official openai package (``AGENTS-PROVENANCE.md``
beside this file says which file each comes from, and which defaults the emulator had to
choose because no source states them). Requests are validated against
``agent_schema``; answers always carry the resolved `reasoning`, `text`, `multi_agent`,
`service_tier`, `compaction`, `experimental` and per-tool settings, as the SDK's `Agent`
type requires. State lives in memory.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import string
import threading
import time
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from .agent_schema import AGENT_CREATE_PARAMS, AGENT_UPDATE_PARAMS
from .spec import describe_violation
from .store import EmulatorError, check_metadata

BETA_HEADER = "agents=v1"
TOOLS_MAX_BYTES = 3 * 1024 * 1024  # "must fit within 3 MiB (3,145,728 bytes) of compact UTF-8 JSON"
DEFAULT_MAX_CONCURRENT_SUBAGENTS = 6
_ID_ALPHABET = string.ascii_letters + string.digits
# Models that reason by default; the SDK says only "the model's default effort" (emulator's choice).
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")


class AgentStore:
    """Agents by id, in creation order; thread-safe.

    A stored agent holds the settings as requested (null where the server's default
    applies); every answer resolves them afresh with `_resolved`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._agents: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self._agents)

    def create(self, body: Any) -> dict[str, Any]:
        _validate(_CREATE, body)
        now = int(time.time())
        agent: dict[str, Any] = {
            "id": "agent_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24)),
            "object": "agent",
            "created_at": now,
            "updated_at": now,
            "name": None,
            "model": body["model"],
            "instructions": None,
            "tools": [],
            "reasoning": None,
            "text": None,
            "multi_agent": None,
            "service_tier": None,
            "compaction": None,
            "experimental": {},
            "metadata": {},
        }
        _assign(agent, body)
        with self._lock:
            self._agents[agent["id"]] = agent
            return _resolved(agent)

    def retrieve(self, agent_id: str) -> dict[str, Any]:
        with self._lock:
            return _resolved(self._get(agent_id))

    def update(self, agent_id: str, body: Any) -> dict[str, Any]:
        _validate(_UPDATE, body)
        with self._lock:
            updated = copy.deepcopy(self._get(agent_id))
            _assign(updated, body)
            updated["updated_at"] = max(int(time.time()), updated["created_at"])
            self._agents[agent_id] = updated
            return _resolved(updated)

    def delete(self, agent_id: str) -> dict[str, Any]:
        with self._lock:
            self._get(agent_id)
            del self._agents[agent_id]
        return {"id": agent_id, "object": "agent.deleted", "deleted": True}

    def list(self, *, limit: int = 20, order: str = "desc", after: str | None = None) -> dict[str, Any]:
        if not 1 <= limit <= 100:
            raise EmulatorError(400, f"Invalid 'limit': expected an integer between 1 and 100, got {limit}.",
                                param="limit")
        if order not in ("asc", "desc"):
            raise EmulatorError(400, f"Invalid 'order': expected 'asc' or 'desc', got {order!r}.", param="order")
        with self._lock:
            ids = list(self._agents)
            if order == "desc":
                ids.reverse()
            start = 0
            if after is not None:
                if after not in self._agents:
                    raise EmulatorError(400, f"Invalid 'after': no agent with id '{after}'.", param="after")
                start = ids.index(after) + 1
            page = ids[start:start + limit]
            data = [_resolved(self._agents[i]) for i in page]
        return {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": start + len(page) < len(ids),
        }

    def _get(self, agent_id: str) -> dict[str, Any]:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise EmulatorError(404, f"No agent found with id '{agent_id}'.") from None


def serve(store: AgentStore, method: str, parts: list[str], query: dict[str, str], body: Any) -> dict[str, Any]:
    """Answer one request under /v1/agents; `parts` is the path after /v1, split on '/'."""
    if len(parts) == 1 and method == "GET":
        return store.list(limit=_int(query.get("limit", "20"), "limit"), order=query.get("order", "desc"),
                          after=query.get("after"))
    if len(parts) == 1 and method == "POST":
        return store.create(body)
    if len(parts) == 2 and method == "GET":
        return store.retrieve(parts[1])
    if len(parts) == 2 and method == "POST":
        return store.update(parts[1], body)
    if len(parts) == 2 and method == "DELETE":
        return store.delete(parts[1])
    raise EmulatorError(404, f"Invalid URL ({method} /v1/{'/'.join(parts)})", code="unknown_url")


def default_reasoning_effort(model: str) -> str | None:
    """The effort the emulator resolves for an omitted one: 'medium' for reasoning models, else null."""
    return "medium" if _REASONING_MODEL.match(model) else None


_CREATE = Draft202012Validator(AGENT_CREATE_PARAMS)
_UPDATE = Draft202012Validator(AGENT_UPDATE_PARAMS)


def _validate(validator: Draft202012Validator, body: Any) -> None:
    if not isinstance(body, dict):
        raise EmulatorError(400, "The request body must be a JSON object.")
    error = best_match(validator.iter_errors(body))
    if error is not None:
        raise _request_error(error)
    check_metadata(body.get("metadata") or {})
    tools = body.get("tools") or []
    size = len(json.dumps(tools, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > TOOLS_MAX_BYTES:
        raise EmulatorError(400, f"Invalid 'tools': the tool list takes {size} bytes of compact UTF-8 JSON; "
                                 f"at most {TOOLS_MAX_BYTES} are allowed.", param="tools")


def _request_error(error: ValidationError) -> EmulatorError:
    path = ".".join(str(p) for p in error.absolute_path)
    # jsonschema types these attributes loosely (they may be unset); here they come from a real violation.
    instance: Any = error.instance
    limit: Any = error.validator_value
    schema: Any = error.schema
    if error.validator == "additionalProperties":
        unknown = sorted(set(instance) - set(schema.get("properties", {})))
        param = ".".join(filter(None, [path, unknown[0] if unknown else ""]))
        return EmulatorError(400, f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter")
    if error.validator == "required":
        missing = [name for name in limit if name not in instance]
        param = ".".join(filter(None, [path, missing[0] if missing else ""]))
        return EmulatorError(400, f"Missing required parameter: '{param}'.", param=param,
                             code="missing_required_parameter")
    if error.validator == "enum":
        allowed = ", ".join(json.dumps(v) for v in limit if v is not None)
        message = f"expected one of {allowed}, got {_short_json(instance)}."
    elif error.validator == "type":
        expected = " or ".join(t for t in _as_list(limit) if t != "null")
        message = f"expected {expected}, got {_short_json(instance)}."
    else:
        message = describe_violation(error.validator, limit, instance, error.message)
    return EmulatorError(400, f"Invalid '{path or 'body'}': {message}", param=path or None)


def _short_json(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _assign(agent: dict[str, Any], body: dict[str, Any]) -> None:
    """Apply the fields of a create or update body to the stored (requested) settings."""
    for name, value in body.items():
        if name == "experimental":
            agent["experimental"] = {**agent["experimental"], **value}  # "settings to merge by key"
        elif name == "metadata":
            agent["metadata"] = dict(value or {})  # replaces all; null or {} clears
        elif name == "tools":
            agent["tools"] = copy.deepcopy(value or [])  # replaces the list; null clears
        else:
            # A supplied object replaces the setting; null resets it to the server's default.
            agent[name] = copy.deepcopy(value)


def _resolved(agent: dict[str, Any]) -> dict[str, Any]:
    """The agent as the service answers it: every resolved setting the SDK's `Agent` type carries.

    The store keeps what was requested, so an omitted reasoning effort follows a later
    change of model, as "the model's default effort" does.
    """
    reasoning = agent["reasoning"] or {}
    text = agent["text"] or {}
    multi_agent = agent["multi_agent"] or {"enabled": False}
    enabled = multi_agent["enabled"]
    return {
        **agent,
        "tools": [_resolved_tool(t) for t in agent["tools"]],
        "reasoning": {
            "effort": reasoning.get("effort") or default_reasoning_effort(agent["model"]),
            "summary": reasoning.get("summary"),
        },
        "text": {"format": copy.deepcopy(text.get("format")) or {"type": "text"},
                 "verbosity": text.get("verbosity") or "medium"},
        "multi_agent": {
            "enabled": enabled,
            "max_concurrent_subagents":
                multi_agent.get("max_concurrent_subagents", DEFAULT_MAX_CONCURRENT_SUBAGENTS) if enabled else None,
        },
        "service_tier": agent["service_tier"] or "auto",
        "compaction": {"async": bool((agent["compaction"] or {}).get("async"))},
        "experimental": {"time_awareness": bool(agent["experimental"].get("time_awareness"))},
        "metadata": dict(agent["metadata"]),
    }


def _resolved_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A tool as the service stores it: every field of the SDK's response type present."""
    tool = copy.deepcopy(tool)
    kind = tool["type"]
    if kind == "function":
        tool.setdefault("defer_loading", False)
        tool.setdefault("async", None)
    elif kind == "programmatic_tool_calling":
        tool.setdefault("enabled", True)
    elif kind == "mcp":
        for name, default in (("allowed_tools", None), ("credential_id", None)):
            tool.setdefault(name, default)
        tool["connection_origin"] = tool.get("connection_origin") or "service"
        tool["request_metadata"] = tool.get("request_metadata") or {}
        tool.setdefault("required", False)
        tool["transport"] = _resolved_transport(tool["transport"])
    elif kind == "web_search":
        tool.setdefault("allowed_domains", None)
        tool["context_size"] = tool.get("context_size") or "medium"
        tool["mode"] = tool.get("mode") or "live"
        location = tool.get("location")
        tool["location"] = None if location is None else {
            name: location.get(name) for name in ("city", "country", "region", "timezone")}
    elif kind == "computer_use":
        tool.setdefault("include_screenshots", False)
    return tool


def _resolved_transport(transport: dict[str, Any]) -> dict[str, Any]:
    if transport["type"] == "http":
        return {**transport, "headers": transport.get("headers") or {}}
    return {**transport, "args": transport.get("args") or [], "env_vars": transport.get("env_vars") or []}


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise EmulatorError(400, f"Invalid '{name}': expected an integer, got {value!r}.", param=name) from None
