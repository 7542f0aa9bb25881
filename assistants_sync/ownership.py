"""The ownership tag: how a remote assistant says which stack and manifest key own it.

One metadata pair, ``"assistants-sync": "<stack>/<key>"``. One pair (not two) because
the API allows only 16 metadata pairs and every pair we take is one the user loses.
Neither stacks nor keys may contain ``/``, so the value splits unambiguously. Every
metadata key starting with ``assistants-sync`` is reserved for this tool.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

TAG_KEY = "assistants-sync"
RESERVED_PREFIX = "assistants-sync"
DEFAULT_STACK = "default"

KEY_PATTERN = r"^[a-z0-9._-]{1,128}$"
STACK_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
_STACK_RE = re.compile(STACK_PATTERN)

# Pairs this tool adds to every managed assistant's metadata; users get the rest.
TAGS_ADDED = 1
METADATA_MAX_PAIRS = 16


def tag_value(stack: str, key: str) -> str:
    """The tag value recorded on an assistant owned by `stack` under `key`."""
    return f"{stack}/{key}"


def owner_of(metadata: Mapping[str, object] | None) -> tuple[str, str] | None:
    """(stack, key) of a remote assistant, or None when it carries no valid tag."""
    if not metadata:
        return None
    value = metadata.get(TAG_KEY)
    if not isinstance(value, str) or "/" not in value:
        return None
    stack, _, key = value.partition("/")
    if not stack or not key:
        return None
    return stack, key


def is_reserved(metadata_key: str) -> bool:
    """True for metadata keys a manifest may not set itself."""
    return metadata_key.startswith(RESERVED_PREFIX)


def check_stack(stack: str) -> str | None:
    """An explanation of why `stack` is not a valid stack name, or None if it is."""
    if _STACK_RE.match(stack):
        return None
    return (
        f"invalid stack name {stack!r}: use 1-64 lower-case letters, digits, '.', '_' or '-', "
        "starting with a letter or digit"
    )
