"""JSON Schemas of the Agents API requests, transcribed from the official openai package.

No OpenAPI document of the Agents API is published beside the Assistants one, so these
schemas are written down from the SDK's request types (openai 3.54.0,
``openai/types/beta/agent_create_params.py`` and the files it imports; see
``AGENTS-PROVENANCE.md``). Every object forbids unknown properties: the SDK's TypedDicts
name every field the service accepts. ``tests/test_emulator_agents.py`` checks these
schemas against the installed SDK's types, so a new SDK field shows up as a failing test.
"""

from __future__ import annotations

from typing import Any

SERVICE_TIERS = ["auto", "default", "flex", "priority", "fast", "ultrafast"]
REASONING_EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh", "max"]
REASONING_SUMMARIES = ["concise", "detailed", "auto"]
VERBOSITIES = ["low", "medium", "high"]
TOOL_TYPES = ["function", "tool_search", "programmatic_tool_calling", "mcp", "web_search", "computer_use",
              "automations"]


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """Optional[...] in the SDK: the value may also be JSON null.

    Null is added to the schema's own `type` or `enum` (not through anyOf), so that a
    wrong value is reported at its own place rather than as "not valid under any schema".
    """
    widened = dict(schema)
    if "enum" in widened:
        widened["enum"] = [*widened["enum"], None]
    else:
        widened["type"] = [widened["type"], "null"]
    return widened


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or [], "additionalProperties": False}


def _tagged(tag_schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A union discriminated by `type`: each branch is chosen by its tag, so errors name the real fault."""
    branches = [{"if": {"type": "object", "properties": {"type": {"const": tag}}, "required": ["type"]},
                 "then": schema}
                for tag, schema in tag_schemas.items()]
    return {"type": "object", "required": ["type"], "properties": {"type": {"enum": list(tag_schemas)}},
            "allOf": branches}


_STRING_LIST = {"type": "array", "items": {"type": "string"}}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}

# persisted_mcp_transport_param.py
MCP_TRANSPORT = _tagged({
    "http": _object({"type": {"const": "http"}, "server_url": {"type": "string"},
                     "headers": _nullable(_STRING_MAP)}, ["server_url", "type"]),
    "stdio": _object({"type": {"const": "stdio"}, "command": {"type": "string"}, "cwd": {"type": "string"},
                      "args": _nullable(_STRING_LIST), "env_vars": _nullable(_STRING_LIST)},
                     ["command", "cwd", "type"]),
})

# persisted_agent_tool_param.py
WEB_SEARCH_LOCATION = _object({name: _nullable({"type": "string"})
                               for name in ("city", "country", "region", "timezone")})
PERSISTED_AGENT_TOOL = _tagged({
    "function": _object({"type": {"const": "function"}, "name": {"type": "string"}, "description": {"type": "string"},
                         "parameters": {"type": "object"}, "defer_loading": {"type": "boolean"},
                         "async": {"type": "boolean"}},
                        ["description", "name", "parameters", "type"]),
    "tool_search": _object({"type": {"const": "tool_search"}}, ["type"]),
    "programmatic_tool_calling": _object({"type": {"const": "programmatic_tool_calling"},
                                          "enabled": {"type": "boolean"}}, ["type"]),
    "mcp": _object({"type": {"const": "mcp"}, "server_label": {"type": "string"}, "transport": MCP_TRANSPORT,
                    "allowed_tools": _nullable(_STRING_LIST),
                    "connection_origin": _nullable({"enum": ["service", "environment"]}),
                    "credential_id": _nullable({"type": "string"}),
                    "request_metadata": _nullable({"type": "object"}),
                    "required": {"type": "boolean"}},
                   ["server_label", "transport", "type"]),
    "web_search": _object({"type": {"const": "web_search"}, "allowed_domains": _nullable(_STRING_LIST),
                           "context_size": _nullable({"enum": ["low", "medium", "high"]}),
                           "location": _nullable(WEB_SEARCH_LOCATION),
                           "mode": _nullable({"enum": ["disabled", "cached", "live"]})}, ["type"]),
    "computer_use": _object({"type": {"const": "computer_use"}, "include_screenshots": {"type": "boolean"}},
                            ["type"]),
    "automations": _object({"type": {"const": "automations"}}, ["type"]),
})

# agent_reasoning_param.py, text_format_param.py, agent_text_param.py, multi_agent_config_param.py
AGENT_REASONING = _object({"effort": _nullable({"enum": REASONING_EFFORTS}),
                           "summary": _nullable({"enum": REASONING_SUMMARIES})})
TEXT_FORMAT = _tagged({
    "text": _object({"type": {"const": "text"}}, ["type"]),
    "json_schema": _object({"type": {"const": "json_schema"}, "schema": {"type": "object"}}, ["schema", "type"]),
})
AGENT_TEXT = _object({"format": _nullable(TEXT_FORMAT), "verbosity": _nullable({"enum": VERBOSITIES})})
MULTI_AGENT_CONFIG = _object({"enabled": {"type": "boolean"}, "max_concurrent_subagents": {"type": "integer"}},
                             ["enabled"])

# agent_create_params.py / agent_update_params.py: Compaction, Experimental
COMPACTION = _object({"async": _nullable({"type": "boolean"})})
EXPERIMENTAL = _object({"time_awareness": {"type": "boolean"}})


def _agent_fields() -> dict[str, Any]:
    return {
        "model": {"type": "string"},
        "compaction": _nullable(COMPACTION),
        "experimental": EXPERIMENTAL,
        "instructions": _nullable({"type": "string"}),
        "metadata": _nullable(_STRING_MAP),
        "multi_agent": _nullable(MULTI_AGENT_CONFIG),
        "name": _nullable({"type": "string"}),
        "reasoning": _nullable(AGENT_REASONING),
        "service_tier": _nullable({"enum": SERVICE_TIERS}),
        "text": _nullable(AGENT_TEXT),
        "tools": _nullable({"type": "array", "items": PERSISTED_AGENT_TOOL}),
    }


# The update body has the same fields, none required, and `model` is not nullable in either.
AGENT_CREATE_PARAMS = _object(_agent_fields(), ["model"])
AGENT_UPDATE_PARAMS = _object(_agent_fields())
