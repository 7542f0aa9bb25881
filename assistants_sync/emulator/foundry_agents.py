"""Microsoft Foundry's agents (the successor of the classic assistants), without HTTP.

Served under a project endpoint (``/api/projects/NAME/agents``). Named agents whose every
change is a new immutable version ("1", "2", ...; id ``NAME:N``). Shapes come from the
official ``azure-ai-projects`` 2.10.0 package (``FOUNDRY-PROVENANCE.md`` beside this file
says what comes from where and which values the emulator had to choose); the field
tables below are checked against the package's models by the tests, so they cannot drift.
State lives in memory.
"""

from __future__ import annotations

import bisect
import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .store import EmulatorError, check_metadata

# The package's shapes (shared with the foundry_agent kind, which validates manifests by them).
from ..foundry_shapes import (AGENT_KINDS, API_VERSIONS, FEATURES_HEADER, LIST_LIMIT_DEFAULT,  # noqa: F401
                              LIST_LIMIT_MAX, NAME_MAX, NAME_RE, PREVIEW_FIELDS, PREVIEW_KINDS, PROMPT_FIELDS,
                              RAI_CONFIG_FIELDS, REASONING_CHOICES, REASONING_FIELDS, STRUCTURED_INPUT_FIELDS,
                              TEXT_FIELDS, TEXT_FORMATS, TOOL_CHOICE_OPTIONS, TOOL_FIELDS, VERSION_REQUEST_FIELDS)


@dataclass
class _Agent:
    name: str
    serial: int  # creation order, for paging
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)  # version -> AgentVersionDetails, in order
    last_version: int = 0  # numbers are never reused, even after a delete


class FoundryAgentStore:
    """Agents by name, each with its immutable versions; thread-safe.

    Stored versions are never changed, so pages and answers are built from them with one
    deep copy each. Agents are kept in creation order with their serials beside them, so a
    cursor is found by bisection and listing N agents in pages costs O(N log N), not O(N^2).
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._agents: dict[str, _Agent] = {}
        self._order: list[str] = []  # names by creation
        self._serials: list[int] = []  # their serials, ascending
        self._next_serial = 0

    def __len__(self) -> int:
        return len(self._agents)

    # -------------------------------------------------------- agents

    def create_version(self, name: str, body: Any, *, features: frozenset[str] = frozenset()) -> dict[str, Any]:
        """Store a new version of `name` (creating the agent); `features`: the preview features opted in to."""
        check_name(name)
        _validate_version_request(body)
        _check_preview(body, features)
        with self._lock:
            agent = self._agents.get(name)
            if agent is None:
                agent = _Agent(name=name, serial=self._next_serial)
                self._next_serial += 1
                self._agents[name] = agent
                self._order.append(name)
                self._serials.append(agent.serial)
            agent.last_version += 1
            number = str(agent.last_version)
            version: dict[str, Any] = {
                "object": "agent.version",
                "id": f"{name}:{number}",
                "name": name,
                "version": number,
                "description": body.get("description") or "",
                "created_at": int(self.clock()),
                "metadata": dict(body.get("metadata") or {}),
                "definition": copy.deepcopy(body["definition"]),
                "status": "active",
            }
            if body.get("draft"):
                version["draft"] = True
            agent.versions[number] = version
            return copy.deepcopy(version)

    def get(self, name: str) -> dict[str, Any]:
        with self._lock:
            return _details(self._agent(name))

    def delete(self, name: str) -> dict[str, Any]:
        with self._lock:
            self._remove(self._agent(name))
        return {"object": "agent.deleted", "name": name, "deleted": True}

    def list(self, query: dict[str, str]) -> dict[str, Any]:
        limit, order = _limit(query), _order(query)
        kind = query.get("kind")
        if kind is not None and kind not in AGENT_KINDS:
            raise invalid(f"Invalid 'kind': expected one of {', '.join(AGENT_KINDS)}, got {kind!r}.", param="kind")
        backwards = query.get("before") is not None and query.get("after") is None  # a page ending at the cursor
        with self._lock:
            positions = self._window(query, order)
            data: list[dict[str, Any]] = []
            more = False
            for at in reversed(positions) if backwards else positions:
                agent = self._agents[self._order[at]]
                if kind is not None and _latest(agent)["definition"].get("kind") != kind:
                    continue
                if len(data) == limit:
                    more = True
                    break
                data.append(_details(agent))
        if backwards:
            data.reverse()
        return _envelope(data, more)

    # -------------------------------------------------------- versions

    def get_version(self, name: str, version: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._version(name, version))

    def delete_version(self, name: str, version: str) -> dict[str, Any]:
        with self._lock:
            agent = self._agent(name)
            self._version(name, version)
            del agent.versions[version]
            if not agent.versions:  # an agent lives as long as one of its versions does
                self._remove(agent)
        return {"object": "agent.version.deleted", "name": name, "version": version, "deleted": True}

    def list_versions(self, name: str, query: dict[str, str]) -> dict[str, Any]:
        limit, order = _limit(query), _order(query)
        drafts = _boolean(query.get("include_drafts", "false"), "include_drafts")
        with self._lock:
            versions = [v for v in self._agent(name).versions.values() if drafts or not v.get("draft")]
            ids = [v["id"] for v in versions]
            if order == "desc":
                versions.reverse()
                ids.reverse()
            start, end = 0, len(ids)
            if query.get("after") is not None:
                start = _cursor(ids, query["after"], "after") + 1
            if query.get("before") is not None:
                end = _cursor(ids, query["before"], "before")
            window = versions[start:end]
            page = window[-limit:] if query.get("before") is not None and query.get("after") is None else window[:limit]
            return _envelope([copy.deepcopy(v) for v in page], len(window) > len(page))

    # -------------------------------------------------------- helpers

    def _agent(self, name: str) -> _Agent:
        agent = self._agents.get(name)
        if agent is None:
            raise EmulatorError(404, f"Agent '{name}' not found.", code="not_found")
        return agent

    def _version(self, name: str, version: str) -> dict[str, Any]:
        found = self._agent(name).versions.get(version)
        if found is None:
            raise EmulatorError(404, f"Version '{version}' of agent '{name}' not found.", code="not_found")
        return found

    def _remove(self, agent: _Agent) -> None:
        del self._agents[agent.name]
        at = bisect.bisect_left(self._serials, agent.serial)
        del self._serials[at], self._order[at]

    def _window(self, query: dict[str, str], order: str) -> range:
        """Positions in `_order` after `after` and before `before`, in `order` (cursors are agent ids, i.e. names)."""
        low, high = 0, len(self._order)  # ascending positions [low, high)
        after, before = query.get("after"), query.get("before")
        if order == "asc":
            if after is not None:
                low = self._position(after, "after") + 1
            if before is not None:
                high = self._position(before, "before")
            return range(low, high)
        if after is not None:
            high = self._position(after, "after")
        if before is not None:
            low = self._position(before, "before") + 1
        return range(high - 1, low - 1, -1)

    def _position(self, cursor: str, param: str) -> int:
        agent = self._agents.get(cursor)
        if agent is None:
            raise invalid(f"Invalid '{param}': no agent with id '{cursor}'.", param=param)
        return bisect.bisect_left(self._serials, agent.serial)


def check_name(name: str) -> None:
    """The package's rule for an agent name: 1-63 letters, digits and hyphens, alphanumeric at both ends."""
    if len(name) > NAME_MAX or not NAME_RE.match(name):
        raise invalid(f"Invalid agent name '{name[:80]}': a name has 1 to {NAME_MAX} characters, letters, digits "
                      "and hyphens, and starts and ends with a letter or digit.", param="agent_name")


def invalid(message: str, *, param: str | None = None) -> EmulatorError:
    return EmulatorError(400, message, param=param, code="invalid_payload")


def _latest(agent: _Agent) -> dict[str, Any]:
    """The newest version that is not a draft ("Draft versions are ... excluded from default 'latest' resolution")."""
    releases = [v for v in agent.versions.values() if not v.get("draft")]
    return (releases or list(agent.versions.values()))[-1]


def _details(agent: _Agent) -> dict[str, Any]:
    return {"object": "agent", "id": agent.name, "name": agent.name, "state": "enabled",
            "configuration_state": "enabled", "versions": {"latest": copy.deepcopy(_latest(agent))}}


def _envelope(data: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None, "has_more": more}


# ---------------------------------------------------------------- validation


def _validate_version_request(body: Any) -> None:
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    _known(body, VERSION_REQUEST_FIELDS, "")
    definition = body.get("definition")
    if definition is None:
        raise invalid("Missing required parameter: 'definition'.", param="definition")
    _object(definition, "definition")
    kind = definition.get("kind")
    if kind not in AGENT_KINDS:
        raise invalid(f"Invalid 'definition.kind': expected one of {', '.join(AGENT_KINDS)}, got {kind!r}.",
                      param="definition.kind")
    if kind == "prompt":
        _validate_prompt(definition)
    for name in ("description",):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise invalid(f"Invalid '{name}': expected a string.", param=name)
    if body.get("draft") is not None and not isinstance(body["draft"], bool):
        raise invalid("Invalid 'draft': expected a boolean.", param="draft")
    metadata = body.get("metadata")
    if metadata is not None:
        _object(metadata, "metadata")
        if not all(isinstance(v, str) for v in metadata.values()):
            raise invalid("Invalid 'metadata': values must be strings.", param="metadata")
        try:
            check_metadata(metadata)
        except EmulatorError as exc:  # the shared limits, with the code Foundry's ApiError requires
            raise invalid(exc.message, param=exc.param) from None


def _check_preview(body: dict[str, Any], features: frozenset[str]) -> None:
    """The service's 403 for a preview feature used without its opt-in (the package quotes the answer)."""
    wanted = [PREVIEW_KINDS.get(body["definition"]["kind"])]
    wanted += [key for name, key in PREVIEW_FIELDS.items() if body.get(name)]
    missing = [key for key in wanted if key is not None and key not in features]
    if missing:
        raise EmulatorError(
            403, f"This operation requires the following opt-in preview feature(s): {', '.join(missing)}. Include "
            f"the '{FEATURES_HEADER}: {', '.join(missing)}' header in your request.", param=FEATURES_HEADER,
            code="preview_feature_required")


def features_of(header: str | None) -> frozenset[str]:
    """The opt-in keys of a Foundry-Features header (comma-separated)."""
    return frozenset(part.strip() for part in (header or "").split(",") if part.strip())


def _validate_prompt(definition: dict[str, Any]) -> None:
    required, optional = PROMPT_FIELDS
    _fields_of(definition, required, optional, "definition")
    if not isinstance(definition["model"], str) or not definition["model"]:
        raise invalid("Invalid 'definition.model': expected the name of a model deployment.", param="definition.model")
    if definition.get("instructions") is not None and not isinstance(definition["instructions"], str):
        raise invalid("Invalid 'definition.instructions': expected a string.", param="definition.instructions")
    for name, top in (("temperature", 2), ("top_p", None)):
        value = definition.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (top is not None and value > top):
            bound = f"between 0 and {top}" if top is not None else "a number"
            raise invalid(f"Invalid 'definition.{name}': expected {bound}, got {value!r}.", param=f"definition.{name}")
    _validate_tools(definition.get("tools"), "definition.tools")
    _validate_tool_choice(definition.get("tool_choice"))
    _validate_reasoning(definition.get("reasoning"))
    _validate_text(definition.get("text"))
    _validate_structured_inputs(definition.get("structured_inputs"))
    if definition.get("rai_config") is not None:
        _fields_of(_object(definition["rai_config"], "definition.rai_config"), *RAI_CONFIG_FIELDS,
                   "definition.rai_config")


def _validate_tools(tools: Any, where: str) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        raise invalid(f"Invalid '{where}': expected an array of tools.", param=where)
    for index, tool in enumerate(tools):
        place = f"{where}.{index}"
        _object(tool, place)
        kind = tool.get("type")
        if kind not in TOOL_FIELDS:
            raise invalid(f"Invalid '{place}.type': unknown tool type {kind!r}.", param=f"{place}.type")
        _fields_of(tool, *TOOL_FIELDS[kind], place)
        if kind == "function":
            _validate_function(tool, place)
        elif kind == "file_search":
            ids = tool["vector_store_ids"]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise invalid(f"Invalid '{place}.vector_store_ids': expected an array of vector store ids.",
                              param=f"{place}.vector_store_ids")
        elif kind == "code_interpreter":
            container = tool.get("container")
            if container is not None and not isinstance(container, str | dict):
                raise invalid(f"Invalid '{place}.container': expected a container id or an object.",
                              param=f"{place}.container")
        elif kind == "namespace":
            _validate_tools(tool["tools"], f"{place}.tools")


def _validate_function(tool: dict[str, Any], place: str) -> None:
    if not isinstance(tool["name"], str) or not tool["name"]:
        raise invalid(f"Invalid '{place}.name': expected a string.", param=f"{place}.name")
    if tool["parameters"] is not None and not isinstance(tool["parameters"], dict):
        raise invalid(f"Invalid '{place}.parameters': expected a JSON Schema object.", param=f"{place}.parameters")
    if tool["strict"] is not None and not isinstance(tool["strict"], bool):
        raise invalid(f"Invalid '{place}.strict': expected a boolean.", param=f"{place}.strict")


def _validate_tool_choice(choice: Any) -> None:
    if choice is None or isinstance(choice, dict) and isinstance(choice.get("type"), str):
        return
    if choice not in TOOL_CHOICE_OPTIONS:
        raise invalid(f"Invalid 'definition.tool_choice': expected one of {', '.join(TOOL_CHOICE_OPTIONS)} or a tool "
                      f"choice object, got {choice!r}.", param="definition.tool_choice")


def _validate_reasoning(reasoning: Any) -> None:
    if reasoning is None:
        return
    _known(_object(reasoning, "definition.reasoning"), REASONING_FIELDS, "definition.reasoning")
    for name, allowed in REASONING_CHOICES.items():
        value = reasoning.get(name)
        if value is not None and value not in allowed:
            raise invalid(f"Invalid 'definition.reasoning.{name}': expected one of {', '.join(allowed)}, got {value!r}.",
                          param=f"definition.reasoning.{name}")


def _validate_text(text: Any) -> None:
    if text is None:
        return
    _known(_object(text, "definition.text"), TEXT_FIELDS, "definition.text")
    form = text.get("format")
    if form is None:
        return
    place = "definition.text.format"
    kind = _object(form, place).get("type")
    if kind not in TEXT_FORMATS:
        raise invalid(f"Invalid '{place}.type': expected one of {', '.join(TEXT_FORMATS)}, got {kind!r}.",
                      param=f"{place}.type")
    _fields_of(form, *TEXT_FORMATS[kind], place)


def _validate_structured_inputs(inputs: Any) -> None:
    if inputs is None:
        return
    for key, value in _object(inputs, "definition.structured_inputs").items():
        _known(_object(value, f"definition.structured_inputs.{key}"), STRUCTURED_INPUT_FIELDS,
               f"definition.structured_inputs.{key}")


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(f"Invalid '{where}': expected an object.", param=where)
    return value


def _fields_of(value: dict[str, Any], required: frozenset[str], optional: frozenset[str], where: str) -> None:
    _known(value, required | optional, where)
    missing = sorted(required - set(value))
    if missing:
        param = f"{where}.{missing[0]}"
        raise invalid(f"Missing required parameter: '{param}'.", param=param)


def _known(value: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        param = ".".join(filter(None, [where, unknown[0]]))
        raise invalid(f"Unknown parameter: '{param}'.", param=param)


def _limit(query: dict[str, str]) -> int:
    text = query.get("limit", str(LIST_LIMIT_DEFAULT))
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if not 1 <= limit <= LIST_LIMIT_MAX:
        raise invalid(f"Invalid 'limit': expected an integer between 1 and {LIST_LIMIT_MAX}, got {text!r}.",
                      param="limit")
    return limit


def _order(query: dict[str, str]) -> str:
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise invalid(f"Invalid 'order': expected 'asc' or 'desc', got {order!r}.", param="order")
    return order


def _boolean(text: str, param: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise invalid(f"Invalid '{param}': expected true or false, got {text!r}.", param=param)
    return text.lower() == "true"


def _cursor(ids: list[str], cursor: str, param: str) -> int:
    try:
        return ids.index(cursor)
    except ValueError:
        raise invalid(f"Invalid '{param}': no version with id '{cursor}'.", param=param) from None


# ---------------------------------------------------------------- routing


def serves(path: str) -> bool:
    """Whether a path (after the project prefix) is one of the agents paths."""
    return path == "/agents" or path.startswith("/agents/")


def route(store: FoundryAgentStore, method: str, path: str, query: dict[str, str], body: Any,
          features: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Serve `method path` (path after the project prefix, e.g. ``/agents/support/versions``)."""
    match (method, *path.strip("/").split("/")):
        case ("GET", "agents"):
            return store.list(query)
        case ("GET", "agents", name):
            return store.get(name)
        case ("DELETE", "agents", name):
            return store.delete(name)
        case ("POST", "agents", name, "versions"):
            return store.create_version(name, body, features=features)
        case ("GET", "agents", name, "versions"):
            return store.list_versions(name, query)
        case ("GET", "agents", name, "versions", version):
            return store.get_version(name, version)
        case ("DELETE", "agents", name, "versions", version):
            return store.delete_version(name, version)
    raise EmulatorError(404, f"Invalid URL ({method} {path})", code="not_found")


def operation(method: str, path: str) -> str | None:
    """The package's name of a write (``agents.create_version``, ...), for faults that drop answers."""
    parts = path.strip("/").split("/")
    if parts[:1] != ["agents"]:
        return None
    return {("POST", 3): "agents.create_version", ("DELETE", 2): "agents.delete",
            ("DELETE", 4): "agents.delete_version"}.get((method, len(parts)))
