"""JSON Schemas for editors, generated from the pydantic models (never written by hand)."""

from __future__ import annotations

from typing import Any

from .config import ProjectConfig
from .kinds.assistant import AssistantManifest

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def manifest_schema() -> dict[str, Any]:
    """The schema of one manifest document."""
    schema = AssistantManifest.model_json_schema(by_alias=True)
    # `model` may come from the project file's defaults, so only `key` is always required.
    schema["required"] = ["key"]
    return {"$schema": SCHEMA_DIALECT, "title": "assistants-sync manifest", **_without_title(schema)}


def config_schema() -> dict[str, Any]:
    """The schema of assistants-sync.yaml."""
    schema = ProjectConfig.model_json_schema(by_alias=True)
    return {"$schema": SCHEMA_DIALECT, "title": "assistants-sync project file", **_without_title(schema)}


def _without_title(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != "title"}
