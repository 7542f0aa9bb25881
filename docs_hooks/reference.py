"""MkDocs hook: the manifest and project-file references, generated from the code at build time.

A page asks for a generated part with a line of its own, ``<!-- generated: NAME -->``
(NAME one of `GENERATED`). The manifest reference is rendered from the JSON Schema that
`assistants-sync schema` prints (every registered kind, so a kind added later appears
without an edit here), the project-file reference from `schema --kind config`, and the
table of defaults from what each kind takes. Nothing here is written by hand, so the
reference cannot fall behind the code.
"""

from __future__ import annotations

import html
import json
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)
_REF = "#/$defs/"
_LIMITS = [  # (schema keyword, how the limit reads)
    ("minLength", "at least {} characters"), ("maxLength", "at most {} characters"),
    ("minimum", "≥ {}"), ("exclusiveMinimum", "> {}"), ("maximum", "≤ {}"), ("exclusiveMaximum", "< {}"),
    ("minItems", "at least {} items"), ("maxItems", "at most {} items"),
    ("minProperties", "at least {} pairs"), ("maxProperties", "at most {} pairs"),
    ("pattern", "matches {}"),
]


# A help's `\\b` block ("Example:" and indented lines, prose may follow), which mkdocs-click runs into one paragraph.
_KEPT_BLOCK = re.compile(r"<p>([^\n<]*:)\n((?:  [^\n]*(?:\n|(?=</p>)))+)([^<]*)</p>")
CLI_PAGE = "reference/cli.md"


def on_page_content(html_text: str, page: Any, config: Any, files: Any) -> str:
    """On the CLI reference, each command's examples as the code they are (as `--help` keeps their lines)."""
    if page.file.src_path != CLI_PAGE:
        return html_text

    def code(match: re.Match[str]) -> str:
        lines = textwrap.dedent(match.group(2)).rstrip("\n")
        prose = f"\n<p>{match.group(3).strip()}</p>" if match.group(3).strip() else ""
        return f"<p>{match.group(1)}</p>\n<pre><code>{lines}</code></pre>{prose}"
    return _KEPT_BLOCK.sub(code, html_text)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace each placeholder line with the part it names (an unknown name fails the build)."""
    def part(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATED:
            raise ValueError(f"{page.file.src_path}: no generated part {name!r} (known: {', '.join(GENERATED)})")
        return GENERATED[name]()
    return _PLACEHOLDER.sub(part, markdown)


# --- the parts -------------------------------------------------------------------------------

def manifest_reference() -> str:
    """One section per kind a manifest may declare, then every type their fields use."""
    from assistants_sync.kinds import kinds
    from assistants_sync.schema import manifest_schema

    schema = manifest_schema()
    defs: dict[str, Any] = schema["$defs"]
    models = {branch["if"]["properties"]["kind"]["const"]: branch["then"]["$ref"].removeprefix(_REF)
              for branch in schema["allOf"]}
    lines: list[str] = []
    used: list[str] = []
    for kind in kinds():
        if not kind.declared:
            lines += [f"## `{kind.name}` {{#{kind.name}}}", "",
                      f"Not declared in manifests: {kind.plural} follow from what the other manifests use "
                      f"(a `kind: {kind.name}` document is an error).", ""]
            continue
        model = defs[models[kind.name]]
        default = "" if kind.name != schema["properties"]["kind"]["default"] else \
            " A document without `kind:` is of this kind."
        lines += [f"## `{kind.name}` {{#{kind.name}}}", "", f"`kind: {kind.name}`.{default} "
                  f"{model.get('description', '')}".rstrip(), "", *_fields_table(model, skip={"kind"}), ""]
        used += _refs(model)
    lines += ["## Types {#types}", "", "The objects the fields above are made of.", ""]
    for name in _reachable(used, defs):
        lines += [f"### {_title(name)} {{#{_anchor(name)}}}", "", *_type_section(defs[name]), ""]
    return "\n".join(lines)


def project_file_reference() -> str:
    """The project file's fields, then the objects they are made of, from `schema --kind config`."""
    from assistants_sync.schema import config_schema, manifest_schema

    schema = config_schema()
    defs: dict[str, Any] = schema["$defs"]
    # The types manifests use are described in the manifest reference; link there.
    elsewhere = {name: "manifests.md" for name in manifest_schema()["$defs"]}
    lines = ["## Top level {#top-level}", "", *_fields_table(schema, elsewhere=elsewhere), ""]
    for name in _reachable(_refs(schema), defs):
        if name not in elsewhere:
            lines += [f"### {_title(name)} {{#{_anchor(name)}}}", "", *_type_section(defs[name], elsewhere), ""]
    defaults = schema["properties"]["defaults"]["anyOf"][0]
    lines += ["## `defaults:` {#defaults}", "", defaults.get("description", ""), "",
              *_fields_table(defaults, required_means="", elsewhere=elsewhere), ""]
    return "\n".join(lines)


def defaults_by_kind() -> str:
    """The table of the project file's defaults each kind takes (a kind not listed takes none)."""
    from assistants_sync.kinds import kinds

    rows = ["| kind | takes from `defaults:` |", "|---|---|"]
    for kind in kinds():
        if kind.defaults_model is not None:
            rows.append(f"| `{kind.name}` | {', '.join(f'`{f}`' for f in kind.defaults_model.model_fields)} |")
    return "\n".join(rows)


GENERATED: dict[str, Callable[[], str]] = {
    "manifest-reference": manifest_reference,
    "project-file-reference": project_file_reference,
    "defaults-by-kind": defaults_by_kind,
}


# --- JSON Schema to Markdown ----------------------------------------------------------------

def _fields_table(model: dict[str, Any], *, skip: Iterable[str] = (), required_means: str = "**required**",
                  elsewhere: Mapping[str, str] = {}) -> list[str]:
    properties = {field: spec for field, spec in model.get("properties", {}).items() if field not in skip}
    if not properties:
        return ["No fields."]
    required = set(model.get("required", []))
    described = any(spec.get("description") for spec in properties.values())  # else no description column
    rows = ["| field | type | default | limits |" + (" description |" if described else ""),
            "|---|---|---|---|" + ("---|" if described else "")]
    for field, spec in properties.items():
        default = required_means if field in required else (_code(spec["default"]) if "default" in spec else "")
        description = f" {_cell(spec.get('description', ''))} |" if described else ""
        rows.append(f"| `{field}` | {_type(spec, elsewhere)} | {default} | {_limits(spec)} |{description}")
    return rows


def _type_section(spec: dict[str, Any], elsewhere: Mapping[str, str] = {}) -> list[str]:
    lines = [_cell(spec["description"]), ""] if spec.get("description") else []
    if spec.get("type") == "object" or "properties" in spec:
        return lines + _fields_table(spec, elsewhere=elsewhere)
    return lines + [f"{_type(spec, elsewhere)}{'; ' + _limits(spec) if _limits(spec) else ''}."]


def _type(spec: dict[str, Any], elsewhere: Mapping[str, str] = {}) -> str:
    """How a value of `spec` reads: `string`, `list of FunctionTool`, `"auto" or TextFormat`... A type
    named in `elsewhere` links to the page given there, any other to its section on this page."""
    if "$ref" in spec:
        name = spec["$ref"].removeprefix(_REF)
        return f"[{_title(name)}]({elsewhere.get(name, '')}#{_anchor(name)})"
    for union in ("anyOf", "oneOf"):
        if union in spec:
            return " or ".join(dict.fromkeys(_type(s, elsewhere) for s in spec[union] if s.get("type") != "null"))
    if "const" in spec:
        return _code(spec["const"])
    if "enum" in spec:
        return "one of " + ", ".join(_code(v) for v in spec["enum"])
    kind = spec.get("type")
    if kind == "array":
        return f"list of {_type(spec['items'], elsewhere)}" if "items" in spec else "list"
    if kind == "object" and isinstance(spec.get("additionalProperties"), dict):
        return f"map of string to {_type(spec['additionalProperties'], elsewhere)}"
    if kind == "object" and len(spec.get("patternProperties", {})) == 1:
        [(pattern, value)] = spec["patternProperties"].items()
        return f"map of name (matching {_span(pattern)}) to {_type(value, elsewhere)}"
    if isinstance(kind, list):
        return " or ".join(kind)
    return kind or "any"


def _limits(spec: dict[str, Any]) -> str:
    """Every limit on the value, its items, keys and values (from the non-null branches of a union too)."""
    found: list[str] = []

    def collect(part: dict[str, Any], prefix: str = "") -> None:
        for keyword, text in _LIMITS:
            if keyword in part:
                value = _span(part[keyword]) if keyword == "pattern" else part[keyword]
                found.append(prefix + text.format(value).replace("at least 1 characters", "not empty")
                             .replace(" 1 items", " 1 item"))
        for union in ("anyOf", "oneOf"):
            for branch in part.get(union, []):
                if "$ref" not in branch:
                    collect(branch, prefix)
        if isinstance(part.get("items"), dict) and "$ref" not in part["items"]:
            collect(part["items"], prefix + "each ")
        if isinstance(part.get("additionalProperties"), dict):
            collect(part["additionalProperties"], prefix + "values ")
        if isinstance(part.get("propertyNames"), dict):
            collect(part["propertyNames"], prefix + "keys ")
    collect(spec)
    return "; ".join(dict.fromkeys(found))


def _refs(spec: Any) -> list[str]:
    """The names of the `$defs` a schema refers to, in order of first mention."""
    text = json.dumps(spec)
    return list(dict.fromkeys(re.findall(r'"\$ref": "#/\$defs/([^"]+)"', text)))


def _reachable(names: list[str], defs: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    todo = list(names)
    while todo:
        name = todo.pop(0)
        if name not in seen:
            seen.append(name)
            todo += _refs(defs[name])
    return sorted(seen, key=_title)


def _title(name: str) -> str:
    """A `$defs` name as people read it: pydantic's `assistants_sync__kinds__agent__FunctionTool` is
    `FunctionTool (agent)`."""
    parts = name.split("__")
    return f"{parts[-1]} ({parts[-2]})" if len(parts) > 2 else name.lstrip("_")


def _anchor(name: str) -> str:
    return "type-" + re.sub(r"[^a-z0-9]+", "-", _title(name).lower()).strip("-")


def _code(value: Any) -> str:
    return _span(json.dumps(value))


def _span(text: str) -> str:
    """`text` as inline code in a table cell; as HTML when it holds a `|` or a backtick, since a Markdown
    code span keeps the backslash of an escaped `|` (which a cell needs)."""
    if "|" not in text and "`" not in text:
        return f"`{text}`"
    return "<code>" + html.escape(text).replace("|", "&#124;").replace("`", "&#96;") + "</code>"


def _cell(text: str) -> str:
    """Text that stays inside one table cell."""
    return text.replace("|", "\\|").replace("\n", " ")
