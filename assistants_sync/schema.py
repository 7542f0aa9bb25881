"""JSON Schemas for editors, generated from the pydantic models (never written by hand).

Both are built from the registered kinds: a manifest is checked by the model of its
``kind:`` (the default kind when it has none), and the project file's ``defaults:``
take any field some kind takes from them.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .config import ProjectConfig
from .kinds import default_fields, kinds
from .kinds.base import DEFAULT_KIND

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_REF_PREFIX = "#/$defs/"


def manifest_schema() -> dict[str, Any]:
    """The schema of one manifest document: the manifest model of its `kind:`."""
    registered = list(kinds())
    refs, defs = _schemas([kind.manifest_model for kind in registered])
    branches = []
    for kind in registered:
        name = refs[kind.manifest_model]
        manifest = defs[name]
        sharing = [k.name for k in registered if k.manifest_model is kind.manifest_model]
        manifest["properties"]["kind"] = {"enum": sharing} if len(sharing) > 1 else {"const": kind.name}
        # A field the project file's defaults may give is not required of the manifest itself.
        manifest["required"] = [f for f in manifest.get("required", []) if f not in default_fields(kind)]
        choose: dict[str, Any] = {"properties": {"kind": {"const": kind.name}}}
        if kind.name != DEFAULT_KIND:
            choose["required"] = ["kind"]  # without `kind:`, a manifest is of the default kind
        branches.append({"if": choose, "then": {"$ref": _REF_PREFIX + name}})
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "assistants-sync manifest",
        "description": f"One manifest document; `kind` chooses its kind ({DEFAULT_KIND} when left out).",
        "type": "object",
        "required": ["key"],
        "properties": {"kind": {"enum": [k.name for k in registered], "default": DEFAULT_KIND}},
        "allOf": branches,
        "$defs": defs,
    }


def config_schema() -> dict[str, Any]:
    """The schema of assistants-sync.yaml."""
    taken = [kind.defaults_model for kind in kinds() if kind.defaults_model is not None]
    refs, defs = _schemas([ProjectConfig, *taken])
    schema = defs.pop(refs[ProjectConfig])
    defaults = _defaults_schema([defs.pop(refs[model]) for model in taken])  # inlined in `defaults`
    for part in (schema, *defs.values()):
        if "defaults" in part.get("properties", {}):  # the top level's, and each environment's
            part["properties"]["defaults"] = {"anyOf": [defaults, {"type": "null"}], "default": None}
    return {"$schema": SCHEMA_DIALECT, "title": "assistants-sync project file",
            **{k: v for k, v in schema.items() if k != "title"}, "$defs": defs}


def _defaults_schema(taken: list[dict[str, Any]]) -> dict[str, Any]:
    """`defaults:` from the schemas of the kinds' defaults models: each field as any kind taking it takes it."""
    properties: dict[str, list[Any]] = {}
    for model in taken:
        for field, field_schema in model["properties"].items():
            accepted = properties.setdefault(field, [])
            if field_schema not in accepted:
                accepted.append(field_schema)
    return {
        "type": "object",
        "description": "Fields merged into every manifest whose kind takes them; a manifest's own fields win.",
        "additionalProperties": False,
        "properties": {f: one[0] if len(one) == 1 else {"anyOf": one} for f, one in properties.items()},
    }


def _schemas(models: list[type[BaseModel]]) -> tuple[dict[type[BaseModel], str], dict[str, Any]]:
    """Each model's name in the shared `$defs` (pydantic keeps names of different models apart), and those."""
    refs, top = models_json_schema([(model, "validation") for model in models], by_alias=True)
    names = {model: ref["$ref"].removeprefix(_REF_PREFIX) for (model, _), ref in refs.items()}
    return names, copy.deepcopy(top.get("$defs", {}))  # type: ignore[return-value]  # models only
