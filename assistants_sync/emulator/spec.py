"""Request validation against the official OpenAPI schemas.

``assistants-openapi.yaml`` and ``knowledge-openapi.yaml`` beside this file are verbatim
copies of the project's wire truth (OpenAI's openapi.yaml, the Assistants and the files and
vector stores subsets, MIT licensed); a test keeps them equal to the shared copies. Validating with it, rather than with hand-written rules, is what
keeps the emulator from agreeing with our own client's mistakes.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ASSISTANTS_SPEC = "assistants-openapi.yaml"
KNOWLEDGE_SPEC = "knowledge-openapi.yaml"  # /files and /vector_stores
_MESSAGE_MAX = 300


@cache
def openapi_document(document: str = ASSISTANTS_SPEC) -> dict[str, Any]:
    text = files(__package__).joinpath(document).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader, chosen for speed


@cache
def schema_validator(component: str, document: str = ASSISTANTS_SPEC) -> Draft202012Validator:
    """A validator for ``#/components/schemas/<component>`` of the spec `document`."""
    uri = f"urn:assistants-sync:{document}"
    resource = Resource.from_contents(openapi_document(document), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(uri, resource)
    return Draft202012Validator({"$ref": f"{uri}#/components/schemas/{component}"}, registry=registry)


def first_violation(component: str, instance: Any, document: str = ASSISTANTS_SPEC) -> tuple[str | None, str] | None:
    """(param, message) of the most relevant violation of the schema, or None if valid."""
    error = best_match(schema_validator(component, document).iter_errors(instance))
    if error is None:
        return None
    param = ".".join(str(p) for p in error.absolute_path) or None
    return param, _describe(error.validator, error.validator_value, error.instance, error.message)


def _describe(keyword: Any, limit: Any, instance: Any, fallback: str) -> str:
    """The API's wording for the common violations; never echoes a long instance."""
    if keyword == "maxLength":
        return (f"string too long. Expected a string with maximum length {limit}, "
                f"but got a string with length {len(instance)} instead.")
    if keyword == "maxItems":
        return (f"array too long. Expected an array with maximum length {limit}, "
                f"but got an array with length {len(instance)} instead.")
    if keyword == "maximum":
        return f"number above maximum value. Expected a value <= {limit}, but got {instance} instead."
    if keyword == "minimum":
        return f"number below minimum value. Expected a value >= {limit}, but got {instance} instead."
    return fallback if len(fallback) <= _MESSAGE_MAX else fallback[:_MESSAGE_MAX] + "..."


def describe_violation(keyword: Any, limit: Any, instance: Any, fallback: str) -> str:
    """The API's wording for a violated JSON Schema keyword (for schemas kept outside the spec)."""
    return _describe(keyword, limit, instance, fallback)
