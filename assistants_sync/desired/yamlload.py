"""Reading YAML the careful way, shared by manifests and the project file.

- `safe_load` semantics (libyaml's parser when available), and duplicate mapping keys
  are errors (PyYAML keeps the last one silently).
- ``${NAME}`` and ``${NAME:-default}`` in string values are replaced from `variables`;
  ``$${...}`` stands for a literal ``${...}``. Substitution happens on parsed values,
  never on the text, so a variable can never change the document's structure. A plain
  (unquoted) value that is exactly one variable is re-read as a YAML scalar, so
  ``temperature: ${TEMP:-0.5}`` is a number; quote it to keep a string.
- Files are size-checked before being read, and must be UTF-8 text.
- Helpers turn pydantic error locations into the user's field paths and YAML lines.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import yaml

from ..errors import UnreadableFile, VariableError

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when built
_VARIABLE = re.compile(r"\$\$\{|\$\{([^}]*)(\})?")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def read_text(path: str | os.PathLike[str], max_bytes: int) -> str:
    """UTF-8 text of `path`, refusing files too large to be valid before reading them."""
    try:
        # Non-blocking: opening a FIFO must not hang; it is then refused as not a regular file.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UnreadableFile("file not found") from None
    except IsADirectoryError:
        raise UnreadableFile("not a regular file") from None
    except OSError as exc:
        raise UnreadableFile(f"cannot be read: {exc.strerror}") from exc
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise UnreadableFile("not a regular file")
        if status.st_size > max_bytes:
            raise UnreadableFile(f"file is {status.st_size:,} bytes; at most {max_bytes:,} can be valid")
        raw = _read_at_most(descriptor, status.st_size, max_bytes + 1)
    except OSError as exc:
        raise UnreadableFile(f"cannot be read: {exc.strerror}") from exc
    finally:
        os.close(descriptor)
    if len(raw) > max_bytes:  # it grew after the size check
        raise UnreadableFile(f"file is over {max_bytes:,} bytes; at most {max_bytes:,} can be valid")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"not UTF-8 text (invalid byte at offset {exc.start})") from exc
    if "\x00" in text:
        raise UnreadableFile("binary file (contains NUL bytes), not text")
    return text


def _read_at_most(descriptor: int, expected: int, limit: int) -> bytes:
    """Up to `limit` bytes; sized reads, because a buffered read(limit) allocates `limit` bytes every time."""
    chunks: list[bytes] = []
    size = min(expected + 1, limit)  # one byte more than expected, to see whether there is more
    while limit > 0:
        chunk = os.read(descriptor, min(size, limit))
        if not chunk:
            break
        chunks.append(chunk)
        limit -= len(chunk)
        size = 1 << 16
    return b"".join(chunks)


def substitute(text: str, variables: Mapping[str, str], mark: Any = None,
               errors: list[VariableError] | None = None) -> tuple[str, bool]:
    """`text` with its variables replaced, and whether it was exactly one variable.

    A reference that cannot be replaced raises VariableError, or, given `errors`, is
    appended to it and left as written, so that every one of them can be reported.
    """
    if "$" not in text:
        return text, False
    references = 0

    def fail(error: VariableError, match: re.Match[str]) -> str:
        if errors is None:
            raise error
        errors.append(error)
        return match.group(0)

    def replace(match: re.Match[str]) -> str:
        nonlocal references
        if match.group(0) == "$${":
            return "${"
        if match.group(2) is None:
            return fail(VariableError("unterminated ${ (write $${ for a literal ${)", mark), match)
        name, has_default, default = match.group(1).partition(":-")
        if not _NAME.match(name):
            return fail(VariableError(f"invalid variable name {name!r} in ${{{match.group(1)}}}", mark), match)
        references += 1
        if name in variables:
            return variables[name]
        if has_default:
            return default
        return fail(VariableError(
            f"variable {name} is not set and has no default: set it, pass --var {name}=VALUE, "
            f"or write ${{{name}:-default}}", mark), match)

    result = _VARIABLE.sub(replace, text)
    whole = references == 1 and bool(re.fullmatch(r"\$\{[^}]*\}", text))
    return result, whole


_MAP, _SEQ, _STR = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:str"


class _Unusual(Exception):
    """A node the direct construction leaves to PyYAML's own (aliases, merge keys, other tags, errors)."""


class StrictLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """safe_load that refuses duplicate mapping keys and substitutes ${variables}."""

    variables: Mapping[str, str] | None = None
    variable_errors: list[VariableError] | None = None  # collected here when set, else raised

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            # A scalar key is identified by its resolved tag and text (no need to construct it).
            if isinstance(key_node, yaml.ScalarNode):
                key: Any = (key_node.tag, key_node.value)
            else:
                key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                continue  # unhashable key: SafeLoader reports it itself
            if first is not None:
                shown = key[1] if isinstance(key_node, yaml.ScalarNode) else key
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {shown!r} (first defined on line {first})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_variable_str(self, node: yaml.ScalarNode) -> Any:
        value = self.construct_scalar(node)
        if self.variables is None or "$" not in value:
            return value
        text, whole = substitute(value, self.variables, node.start_mark, self.variable_errors)
        if whole and not node.style:  # plain: None from PyYAML's parser, "" from libyaml's
            # An unquoted lone variable is typed like a value written in its place.
            tag = self.resolve(yaml.ScalarNode, text, (True, False))
            if tag != "tag:yaml.org,2002:str":
                return self.construct_object(yaml.ScalarNode(tag, text, node.start_mark, node.end_mark, style=None))
        return text

    def construct_plain(self, node: yaml.Node, seen: set[int]) -> Any:
        """`node`'s data, built directly for the plain mappings, lists and scalars manifests are made of.

        PyYAML's construction (generators, recursion bookkeeping) costs more than parsing
        for small documents; anything else raises _Unusual and is left to it, so the
        result, and every error, is always the one PyYAML's construction gives.
        """
        if id(node) in seen:
            raise _Unusual  # an alias: shared, perhaps recursive
        seen.add(id(node))
        if node.__class__ is yaml.ScalarNode:
            if node.tag == _STR and (self.variables is None or "$" not in node.value):
                return node.value  # what construct_variable_str gives, without its calls
            constructor = self.yaml_constructors.get(node.tag)
            if constructor is None:
                raise _Unusual
            return constructor(self, node)
        if node.__class__ is yaml.SequenceNode and node.tag == _SEQ:
            return [self.construct_plain(item, seen) for item in node.value]
        if node.__class__ is yaml.MappingNode and node.tag == _MAP:
            data: dict[Any, Any] = {}
            keys: set[tuple[str, str]] = set()
            for key_node, value_node in node.value:
                if key_node.__class__ is not yaml.ScalarNode or key_node.tag not in _PLAIN_KEY_TAGS:
                    raise _Unusual
                identity = (key_node.tag, key_node.value)
                if identity in keys:
                    raise _Unusual  # a duplicate key: reported by construct_mapping
                keys.add(identity)
                data[self.construct_plain(key_node, seen)] = self.construct_plain(value_node, seen)
            return data
        raise _Unusual

    def construct_whole_document(self, node: yaml.Node) -> Any:
        """The document's data: directly when it is plain, else by PyYAML's construction."""
        errors = self.variable_errors
        collected = len(errors) if errors is not None else 0
        try:
            return self.construct_plain(node, set())
        except Exception:  # noqa: BLE001 - whatever it was, PyYAML's construction says it properly
            if errors is not None:
                del errors[collected:]
        finally:
            self.constructed_objects.clear()  # as construct_document leaves them
            self.recursive_objects.clear()
        return self.construct_document(node)


StrictLoader.add_constructor("tag:yaml.org,2002:str", StrictLoader.construct_variable_str)
# Scalar key tags with no special meaning in a mapping (unlike << and =).
_PLAIN_KEY_TAGS = frozenset({_STR, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
                             "tag:yaml.org,2002:null"})


def documents(text: str, variables: Mapping[str, str] | None = None,
              errors: list[VariableError] | None = None) -> Iterator[tuple[int, yaml.Node, Any]]:
    """(1-based number, node, data) for each YAML document of `text`.

    Given `errors`, variables that cannot be substituted are appended to it (in line
    order within each document) instead of raised; such a document is still yielded,
    with those references left as written, and the caller decides what to do with it.
    """
    loader = StrictLoader(text)
    loader.variables = variables
    loader.variable_errors = errors
    try:
        number = 0
        while loader.check_node():
            node = loader.get_node()
            number += 1
            collected = len(errors) if errors is not None else 0
            data = loader.construct_whole_document(node)
            if errors is not None and len(errors) > collected + 1:
                errors[collected:] = sorted(errors[collected:], key=lambda e: e.line or 0)
            yield number, node, data
    finally:
        loader.dispose()


def yaml_error_message(exc: yaml.YAMLError) -> tuple[int | None, str]:
    """(line, message) for a YAML syntax error, naming line and column."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        position = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return (mark.line + 1 if mark else None), f"invalid YAML: {exc.problem or exc.context}{position}"
    return None, f"invalid YAML: {exc}"


# Fields whose value, or each item of whose list, is a tagged union: pydantic puts the tag in an error's location.
TAGGED_UNIONS = frozenset({"tools", "response_format", "files", "chunking_strategy"})


def user_path(loc: tuple[int | str, ...], tagged_unions: frozenset[str] = TAGGED_UNIONS) -> list[int | str]:
    """Pydantic's error location without the union tags it inserts."""
    path: list[int | str] = []
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        path.append(part)
        tagged = ((len(path) >= 2 and path[-2] in tagged_unions and isinstance(part, int))
                  or (isinstance(part, str) and part in tagged_unions and not (parts and isinstance(parts[0], int))))
        if tagged and parts and isinstance(parts[0], str):
            parts.pop(0)
    return path


def format_path(path: Sequence[int | str]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == "[key]":
            text += " (the key)"
        else:
            text += f".{part}" if text else str(part)
    return text or "(document)"


def validation_message(error: Any, known_fields: frozenset[str] = frozenset()) -> str:
    """A pydantic error as one clear sentence (unknown fields get a did-you-mean)."""
    kind = error["type"]
    if kind == "extra_forbidden":
        field = str(error["loc"][-1])
        close = difflib.get_close_matches(field, known_fields - {field}, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown field {field!r}{hint}"
    if kind == "missing":
        return "required field is missing"
    return str(error["msg"])


def line_of(node: yaml.Node, path: Sequence[int | str]) -> int:
    """Line of the YAML node at `path` (or of its deepest existing ancestor)."""
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            if match is None:
                break
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    return int(node.start_mark.line) + 1
