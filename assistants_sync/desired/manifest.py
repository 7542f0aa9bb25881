"""Manifests (YAML files) -> desired state.

`load_manifests` reads every ``*.yaml`` / ``*.yml`` under the given paths in a stable
order, validates each document with the manifest model of its kind (``kind:``,
default ``assistant``), reads the files it references and returns one `Desired` per
document. It collects every problem of every file before raising one `ManifestError`,
so a user fixes everything in one round. It never touches the network.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..defaults import CONFIG_NAMES
from ..errors import ManifestError, NoManifestsError, Problem
from ..kinds import defaults_taken, get_kind, kind_named, kind_nouns, kinds
from ..kinds.base import DEFAULT_KIND, Kind, LocalFile
from .manifest_cache import ParseCache
from .yamlload import (UnreadableFile, VariableError, documents, format_path, line_of, read_text, user_path,
                       validation_message, yaml_error_message)

MANIFEST_SUFFIXES = (".yaml", ".yml")
# Larger files cannot be valid (instructions are <= 256,000 characters, at most 4 bytes
# each), so they are refused before being read whole.
MANIFEST_MAX_BYTES = 4 * 1024 * 1024
REFERENCED_FILE_MAX_BYTES = 256_000 * 4  # the longest text field (instructions), at 4 bytes a character


@dataclass(frozen=True)
class Desired:
    """One manifest document, validated, with referenced files read in."""

    key: str
    source: str  # "path/to/file.yaml:LINE", for messages
    request: dict[str, Any]  # the create request it stands for, without this tool's tags
    protect: bool = False
    ignore_changes: frozenset[str] = frozenset()
    adopt: str | None = None  # id of an unmanaged object to take over
    previous_keys: tuple[str, ...] = ()  # keys it was managed under before a rename, first match wins
    kind: str = DEFAULT_KIND

    @cached_property  # asked for many times a plan (each object's diff, fingerprint, guards); it never changes
    def unmanaged(self) -> frozenset[str]:
        """Fields neither compared nor sent on update: ignore_changes, and fields unmanaged when left unset."""
        unset = {name for name in get_kind(self.kind).unmanaged_when_unset if self.request.get(name) is None}
        return self.ignore_changes | unset


DesiredAssistant = Desired  # its name before the engine knew other kinds


def load_manifests(
    paths: Sequence[str | os.PathLike[str]],
    *,
    defaults: Mapping[str, Any] | None = None,
    variables: Mapping[str, str] | None = None,
    project_file: str | os.PathLike[str] | None = None,
    between_files: Callable[[], None] | None = None,
) -> list[Desired]:
    """Every desired object under `paths`, or ManifestError listing every problem.

    `defaults` (the project file's) are merged into every document: a document's own
    fields win, and metadata pairs are merged. `variables` fill in ``${NAME}``. A YAML
    file that a manifest references (a ``parameters_file``) is not itself a manifest,
    nor is a project file (`project_file`, or any file named like one). A file named
    twice, however spelt, is read once. `between_files` is called before each file is
    read (a plan's listing in flight takes its turn there: `ListingInFlight.give_way`).
    """
    source = _Source(dict(defaults or {}), variables)
    files = _Files()
    problems: list[Problem] = []
    loaded: list[tuple[str, list[Desired], list[Problem]]] = []
    manifests = list(_manifest_files(paths, problems, files, project_file))
    files.cache = ParseCache.open((files.real_directory(str(m.root)) for m in manifests), len(manifests))
    for manifest in manifests:
        if between_files is not None:
            between_files()
        file_problems: list[Problem] = []
        loaded.append((manifest.real, _load_file(manifest, file_problems, files, source), file_problems))
    files.cache.save()

    desired: list[Desired] = []
    first_seen: dict[tuple[str, str], str] = {}
    for real, objects, file_problems in loaded:
        if real in files.documents and objects:  # a glob that reached into the manifests
            named_at = files.documents[real]
            problems.append(replace(named_at, message=(
                f"{named_at.message}: names {objects[0].source.rpartition(':')[0]}, a manifest, as a document: a "
                "manifest is never a document; narrow the pattern")))
            continue
        if real in files.referenced:
            continue
        problems.extend(file_problems)
        for wanted in objects:
            if (wanted.kind, wanted.key) in first_seen:
                file_name, _, line = wanted.source.rpartition(":")
                problems.append(Problem(
                    file_name, int(line), f"key {wanted.key!r}",
                    f"duplicate key: already defined at {first_seen[(wanted.kind, wanted.key)]} "
                    f"(keys must be unique across all files{_of_kind(wanted.kind)})",
                ))
                continue
            first_seen[(wanted.kind, wanted.key)] = wanted.source
            desired.append(wanted)
    for kind in kinds():
        problems.extend(_previous_key_problems([d for d in desired if d.kind == kind.name]))
        problems.extend(_named_id_problems(kind, [d for d in desired if d.kind == kind.name]))
    problems.extend(_reference_problems(desired, files.failed))
    if problems:
        raise ManifestError(problems)
    return desired


def with_derived(desired: Sequence[Desired]) -> list[Desired]:
    """`desired` and the objects no manifest declares: those the kinds derive from the declared ones (uploads)."""
    return [*desired, *derived(desired)]


def derived(desired: Sequence[Desired]) -> list[Desired]:
    """The desired objects no manifest declares: those the kinds derive from the declared ones (uploads)."""
    return [Desired(key=d.key, source=d.source, request=d.request, ignore_changes=d.ignore_changes, kind=kind.name)
            for kind in kinds() for d in kind.derive(desired)]


def _reference_problems(desired: Sequence[Desired], failed: set[tuple[str, str]]) -> Iterator[Problem]:
    """A reference by key must name a manifest of the stack, of the kind it names (`failed`: keys of manifests
    that had problems of their own, reported already)."""
    keys = {(d.kind, d.key) for d in desired} | failed
    for wanted in desired:
        for kind_name, key, where in get_kind(wanted.kind).key_references(wanted.request):
            if (kind_name, key) not in keys:
                file_name, _, line = wanted.source.rpartition(":")
                noun = get_kind(kind_name).noun
                yield Problem(file_name, int(line), f"key {wanted.key!r}: {where}",
                              f"no {kind_name} manifest has key {key!r}: name the key of a {noun} declared in the "
                              f"manifests (kind: {kind_name}), or its id")


def _of_kind(kind: str) -> str:
    return "" if kind == DEFAULT_KIND else f" among the manifests of kind {kind}"


def _named_id_problems(kind: Kind, desired: Sequence[Desired]) -> Iterator[Problem]:
    """Where the client names objects (a Foundry agent's name is its id), two manifests cannot name one."""
    first: dict[str, Desired] = {}
    for wanted in desired if kind.named else ():
        named = kind.named_id(wanted.request)
        if named is None:
            continue
        if named in first:
            file_name, _, line = wanted.source.rpartition(":")
            yield Problem(file_name, int(line), f"key {wanted.key!r}: name",
                          f"duplicate name {named!r}: the manifest at {first[named].source} (key {first[named].key!r}) "
                          f"names its {kind.noun} so too; a {kind.noun}'s name is unique in the project")
        else:
            first[named] = wanted


def _previous_key_problems(desired: Sequence[Desired]) -> Iterator[Problem]:
    """A previous key must be free (no manifest of its kind has it) and renamed into one key only."""
    sources = {d.key: d.source for d in desired}
    claimed: dict[str, Desired] = {}
    for assistant in desired:
        file_name, _, line = assistant.source.rpartition(":")
        where = f"key {assistant.key!r}: previous_keys"
        for previous in assistant.previous_keys:
            if previous in sources:
                yield Problem(file_name, int(line), where, f"{previous!r} is the key of the manifest at "
                              f"{sources[previous]}; a previous key must no longer be in use")
            elif claimed.setdefault(previous, assistant) is not assistant:
                yield Problem(file_name, int(line), where, f"{previous!r} is also claimed by "
                              f"{claimed[previous].source}; one previous key can only be renamed to one key")


def require_manifests(desired: Sequence[Desired], paths: Sequence[str | os.PathLike[str]], *,
                      hint: str = "") -> None:
    """NoManifestsError when `paths` held no manifest at all (`hint` says what to do instead)."""
    if not desired:
        raise NoManifestsError([str(p) for p in paths], hint, nouns=kind_nouns())


class _Files:
    """What one load has looked up: each directory resolved once, each referenced file read once."""

    def __init__(self) -> None:
        self.referenced: set[str] = set()  # real paths of files a manifest references
        self.cache = ParseCache.off()
        self._directories: dict[str, str] = {}
        self._real_paths: dict[str, str] = {}
        self._references: dict[tuple[str, str], tuple[str, str]] = {}
        self._texts: dict[str, str | UnreadableFile] = {}
        self._digests: dict[str, tuple[str, int] | UnreadableFile] = {}
        self.documents: dict[str, Problem] = {}  # real path of a document -> where a manifest names it
        self.failed: set[tuple[str, str]] = set()  # (kind, key) of documents that had problems
        # (root, manifest directory, reference) -> (path, real path) of a referenced file found inside the root
        self.inside: dict[tuple[Path, str, str], tuple[str, str]] = {}

    def real_directory(self, directory: str) -> str:
        real = self._directories.get(directory)
        if real is None:
            real = self._directories[directory] = os.path.realpath(directory or ".")
        return real

    def real_path(self, path: str) -> str:
        """`os.path.realpath(path)`, each path once, with the (usually shared) directory part resolved once."""
        real = self._real_paths.get(path)
        if real is None:
            directory, name = os.path.split(path)
            if name in ("", ".", ".."):
                real = os.path.realpath(path)
            else:
                candidate = os.path.join(self.real_directory(directory), name)
                real = os.path.realpath(candidate) if os.path.islink(candidate) else candidate
            self._real_paths[path] = real
        return real

    def reference(self, manifest: str, reference: str) -> tuple[str, str]:
        """The path of a file a manifest references, and its real path."""
        directory = os.path.dirname(manifest)
        found = self._references.get((directory, reference))
        if found is None:
            target = os.path.join(directory, reference)
            found = self._references[(directory, reference)] = (target, self.real_path(target))
        return found

    def local_file(self, path: str, real: str, max_bytes: int, named_at: Problem) -> LocalFile:
        """Digest and size of a file whose content is uploaded (each file hashed once a load), or UnreadableFile.

        `named_at`: where a manifest names it (its message the reference), for a problem when it is a manifest."""
        self.referenced.add(real)  # a YAML document is not read as a manifest
        self.documents.setdefault(real, named_at)
        found = self._digests.get(real)
        if found is None:
            found = self._digests[real] = _digest(path, max_bytes)
        if isinstance(found, UnreadableFile):
            raise found
        sha256, size = found
        return LocalFile(source=path, sha256=sha256, size=size, name=os.path.basename(path))

    def referenced_text(self, path: str, real: str) -> str:
        """Text of a referenced file (many manifests may share one), or UnreadableFile."""
        self.referenced.add(real)
        text = self._texts.get(real)
        if text is None:
            try:
                text = read_text(path, REFERENCED_FILE_MAX_BYTES)
            except UnreadableFile as exc:
                text = exc
            self._texts[real] = text
        if isinstance(text, UnreadableFile):
            raise text
        return text


def _digest(path: str, max_bytes: int) -> tuple[str, int] | UnreadableFile:
    """(sha256, size) of a regular file of at most `max_bytes`, read in chunks; else why not."""
    try:
        with open(path, "rb") as stream:
            status = os.fstat(stream.fileno())
            if not os.path.isfile(path):
                return UnreadableFile("not a regular file")
            if status.st_size > max_bytes:
                return UnreadableFile(f"{status.st_size:,} bytes; the API takes files of at most {max_bytes:,} bytes")
            digest = hashlib.sha256()
            for chunk in iter(lambda: stream.read(1024 * 1024), b""):
                digest.update(chunk)
            return digest.hexdigest(), status.st_size
    except FileNotFoundError:
        return UnreadableFile("file not found")
    except IsADirectoryError:
        return UnreadableFile("not a regular file")
    except OSError as exc:
        return UnreadableFile(f"cannot be read: {exc.strerror}")


@dataclass(frozen=True)
class _ManifestFile:
    name: str  # as the user spelt it (normalised like a Path), for messages
    real: str  # with symlinks resolved: one file however it is named
    root: Path  # referenced files must resolve inside it


def _manifest_files(paths: Sequence[str | os.PathLike[str]], problems: list[Problem], files: _Files,
                    project_file: str | os.PathLike[str] | None) -> Iterator[_ManifestFile]:
    """Each manifest file once, in a stable order, with the directory referenced files must stay inside."""
    project = files.real_path(os.fspath(project_file)) if project_file is not None else None
    seen: set[str] = {project} if project is not None else set()  # the project file is never a manifest
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            top = str(path)
            prefix = len(os.path.join(top, ""))
            found = sorted(_files_under(top), key=lambda f: f[0][prefix:].replace(os.sep, "/"))
            for name, directory, is_link in found:
                real = files.real_path(name) if is_link else os.path.join(files.real_directory(directory),
                                                                          os.path.basename(name))
                if real not in seen:
                    seen.add(real)
                    yield _ManifestFile(name[2:] if top == "." else name, real, path)  # as str(Path(name)) would
        elif path.is_file():
            real = files.real_path(str(path))
            if path.suffix not in MANIFEST_SUFFIXES:
                problems.append(Problem(str(path), None, "", "not a manifest: the file name must end in .yaml or .yml"))
            elif path.name in CONFIG_NAMES or real == project:
                problems.append(Problem(str(path), None, "", "is a project file, not a manifest: it holds settings"))
            elif real not in seen:
                seen.add(real)
                yield _ManifestFile(str(path), real, path.parent)
        else:
            problems.append(Problem(str(path), None, "", "no such file or directory"))


def _files_under(top: str) -> Iterator[tuple[str, str, bool]]:
    """(path, its directory, whether it is a symlink) of each manifest under `top`, as os.walk finds them.

    Hidden files and directories are skipped, and so are project files. Symlinked
    directories are not followed (as os.walk); scandir's entries say which files are
    symlinks without a system call each.
    """
    pending = [top]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    name = entry.name
                    if name.startswith("."):
                        continue
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    if is_dir:
                        if not entry.is_symlink():
                            pending.append(entry.path)
                    elif name.endswith(MANIFEST_SUFFIXES) and name not in CONFIG_NAMES:
                        yield entry.path, directory, entry.is_symlink()
        except OSError:
            continue  # an unreadable directory, as os.walk skips it


@dataclass(frozen=True)
class _Source:
    """What every document is read with: the project's defaults and the variables."""

    defaults: dict[str, Any]
    variables: Mapping[str, str] | None
    _taken: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)

    def merged(self, data: dict[str, Any], kind: Kind) -> dict[str, Any]:
        """`data` with the project's defaults that its kind takes (each kind takes its own fields)."""
        return with_defaults(data, self._taken_by(kind))

    def from_defaults(self, data: dict[str, Any], kind: Kind) -> frozenset[str]:
        """The fields a document of `kind` gets from the defaults alone (for messages about them)."""
        taken = self._taken_by(kind)
        return frozenset(taken) - frozenset(data) if taken else frozenset()

    def _taken_by(self, kind: Kind) -> dict[str, Any]:
        # The same for every document of a kind: worked out once a load, not once a document.
        taken = self._taken.get(kind.name)
        if taken is None:
            taken = self._taken[kind.name] = defaults_taken(kind, self.defaults)
        return taken


def with_defaults(data: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """A document's fields over the project's defaults: its own fields win, metadata pairs are merged."""
    merged = {**defaults, **data}
    if isinstance(defaults.get("metadata"), dict) and isinstance(data.get("metadata"), dict):
        merged["metadata"] = {**defaults["metadata"], **data["metadata"]}
    return merged


def _load_file(manifest: _ManifestFile, problems: list[Problem], files: _Files, source: _Source
               ) -> list[Desired]:
    name = manifest.name
    try:
        text = read_text(name, MANIFEST_MAX_BYTES)
    except UnreadableFile as exc:
        problems.append(Problem(name, None, "", str(exc)))
        return []
    key = files.cache.key(text)
    cached = files.cache.get(key)
    if cached is not None:
        attempt: list[Problem] = []
        assistants = _load_cached(cached, manifest, attempt, files, source)
        if not attempt:
            return assistants
        # Any problem: parse the file again, for messages naming its lines.
    parsed: list[tuple[int, int, Any]] = []
    count = len(problems)
    assistants = list(_load_parsed(text, manifest, problems, files, source, parsed))
    if len(problems) == count:
        files.cache.put(key, text, parsed)
    return assistants


def _load_cached(cached: list[tuple[int, int, Any]], manifest: _ManifestFile, problems: list[Problem], files: _Files,
                 source: _Source) -> list[Desired]:
    """The documents of a cached parse, validated like parsed ones; problems only say that there are some."""
    assistants: list[Desired] = []
    for number, line, data in cached:
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(Problem(manifest.name, line, "", "not a mapping"))
            continue
        mark = yaml.Mark(manifest.name, 0, line - 1, 0, None, 0)
        node = yaml.ScalarNode("tag:yaml.org,2002:null", "", mark, mark)  # stands in for the document's node
        where = f"document {number} (key {data['key']!r})" if isinstance(data.get("key"), str) else f"document {number}"
        loaded = _load_document(data, source, node, _Context(manifest, where, problems, files))
        if loaded is not None:
            assistants.append(loaded)
    return assistants


def _load_parsed(text: str, manifest: _ManifestFile, problems: list[Problem], files: _Files, source: _Source,
                 parsed: list[tuple[int, int, Any]]) -> Iterator[Desired]:
    """The documents of `text`; each document's (number, first line, data) is appended to `parsed`."""
    name = manifest.name
    unset: list[VariableError] = []
    try:
        for number, node, data in documents(text, source.variables, unset):
            line = node.start_mark.line + 1
            parsed.append((number, line, data))
            if unset:  # reported once each; the document is not checked further
                problems.extend(Problem(name, e.line, "", str(e)) for e in unset)
                unset.clear()
                continue
            if data is None:
                continue  # an empty document
            where = f"document {number}"
            if not isinstance(data, dict):
                problems.append(Problem(name, line, where, f"a document must be a mapping of fields, not a {_yaml_type(data)}"))
                continue
            if isinstance(data.get("key"), str):
                where = f"document {number} (key {data['key']!r})"
            loaded = _load_document(data, source, node, _Context(manifest, where, problems, files))
            if loaded is not None:
                yield loaded
    except VariableError as exc:
        problems.append(Problem(name, exc.line, "", str(exc)))
    except yaml.YAMLError as exc:
        line, message = yaml_error_message(exc)
        problems.append(Problem(name, line, "", message))


@dataclass(frozen=True)
class _Context:
    """Where a document came from, and where its problems and references go."""

    manifest: _ManifestFile
    where: str  # "document N (key 'x')"
    problems: list[Problem]
    files: _Files

    @property
    def name(self) -> str:
        return self.manifest.name

    def report(self, node: yaml.Node, path: Sequence[int | str], message: str) -> None:
        self.problems.append(Problem(self.name, line_of(node, path), f"{self.where}: {format_path(path)}", message))


def _load_document(data: dict[str, Any], source: _Source, node: yaml.Node, ctx: _Context) -> Desired | None:
    kind_name = data.get("kind", DEFAULT_KIND)
    kind = kind_named(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        known = ", ".join(k.name for k in kinds() if k.declared)
        ctx.report(node, ["kind"], f"unknown kind {kind_name!r}: the kinds are {known}")
        return None
    if not kind.declared:
        ctx.report(node, ["kind"], f"{kind.plural} are not declared in manifests: they follow from what the other "
                                   "manifests use")
        return None
    if "kind" in data:
        data = {k: v for k, v in data.items() if k != "kind"}
    from_defaults = source.from_defaults(data, kind)
    data = source.merged(data, kind)
    try:
        manifest = kind.manifest_model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            path = user_path(error["loc"])
            message = validation_message(error, kind.known_field_names)
            if path and path[0] in from_defaults:
                message += (f" (the value is from the project file's defaults; set {path[0]} in this manifest "
                            f"to override it)")
            ctx.report(node, path, message)
        _failed(ctx, kind, data)
        return None

    count = len(ctx.problems)
    request = manifest.model_dump(
        mode="json", by_alias=True, exclude_none=True,
        exclude={"key", "previous_keys", "protect", "ignore_changes", "adopt"},
    )
    kind.complete_request(request, _DocumentFiles(node, ctx))
    if len(ctx.problems) > count:
        _failed(ctx, kind, data)
        return None
    return Desired(
        key=getattr(manifest, "key"),
        source=f"{ctx.name}:{node.start_mark.line + 1}",
        request=request,
        protect=getattr(manifest, "protect"),
        ignore_changes=frozenset(getattr(manifest, "ignore_changes")),
        adopt=getattr(manifest, "adopt"),
        previous_keys=tuple(getattr(manifest, "previous_keys")),
        kind=kind.name,
    )


def _failed(ctx: _Context, kind: Kind, data: Mapping[str, Any]) -> None:
    """Remember the key of a document with problems: references to it are not reported as missing too."""
    if isinstance(data.get("key"), str):
        ctx.files.failed.add((kind.name, data["key"]))


@dataclass(frozen=True)
class _DocumentFiles:
    """`kinds.base.ReferencedFiles` for one document."""

    node: yaml.Node
    ctx: _Context

    def read(self, reference: str, at: list[int | str]) -> str | None:
        return _read_referenced(reference, self.node, at, self.ctx)

    def report(self, at: list[int | str], message: str) -> None:
        self.ctx.report(self.node, at, message)

    def read_data(self, reference: str, at: list[int | str]) -> Any:
        text = self.read(reference, at)
        if text is None:
            return None
        try:
            if reference.endswith(".json"):
                return json.loads(text)
            return next((data for _, _, data in documents(text)), None)
        except (ValueError, yaml.YAMLError) as exc:
            self.report(at, f"{reference}: not valid JSON or YAML: {exc}")
            return None

    def local_file(self, reference: str, at: list[int | str], *, max_bytes: int) -> LocalFile | None:
        target = _inside_root(reference, self.node, at, self.ctx)
        if target is None:
            return None
        try:
            named_at = Problem(self.ctx.name, line_of(self.node, at), f"{self.ctx.where}: {format_path(at)}", reference)
            return self.ctx.files.local_file(target[0], target[1], max_bytes, named_at)
        except UnreadableFile as exc:
            self.ctx.report(self.node, at, f"{reference}: {exc}")
            return None

    def glob(self, pattern: str, at: list[int | str]) -> list[str] | None:
        if os.path.isabs(pattern):
            self.ctx.report(self.node, at, f"{pattern}: must be a path relative to the manifest, not absolute")
            return None
        directory = os.path.dirname(self.ctx.manifest.name)
        if not glob.has_magic(pattern):
            return [pattern.replace(os.sep, "/")]  # one file: read (and reported) by whoever reads it
        found = sorted(os.path.relpath(match, directory or ".").replace(os.sep, "/")
                       for match in glob.glob(os.path.join(directory, pattern), recursive=True)
                       if os.path.isfile(match))
        if not found:
            self.ctx.report(self.node, at, f"{pattern}: matches no file (relative to {directory or '.'})")
            return None
        return found


def _inside_root(reference: str, node: yaml.Node, at: list[int | str], ctx: _Context) -> tuple[str, str] | None:
    """(path, real path) of a file a manifest references, or None when it leaves the manifests' root (reported)."""
    inside = ctx.files.inside.get((ctx.manifest.root, os.path.dirname(ctx.manifest.name), reference))
    if inside is not None:  # many manifests of a directory often share one file (a prompt)
        return inside
    if os.path.isabs(reference):
        ctx.report(node, at, f"{reference}: must be a path relative to the manifest, not absolute")
        return None
    target, real_target = ctx.files.reference(ctx.manifest.name, reference)  # follows symlinks, so a link
    # cannot point outside the root either
    root = ctx.files.real_directory(str(ctx.manifest.root))
    if not (real_target == root or real_target.startswith(root.rstrip(os.sep) + os.sep)):
        ctx.report(node, at, f"{reference}: resolves outside the manifests' root {str(ctx.manifest.root)!r}; "
                             "referenced files must stay inside it")
        return None
    ctx.files.inside[(ctx.manifest.root, os.path.dirname(ctx.manifest.name), reference)] = (target, real_target)
    return target, real_target


def _read_referenced(reference: str, node: yaml.Node, at: list[int | str], ctx: _Context) -> str | None:
    """Text of a file a manifest references, kept inside the manifests' root."""
    inside = _inside_root(reference, node, at, ctx)
    if inside is None:
        return None
    target, real_target = inside
    try:
        return ctx.files.referenced_text(target, real_target)
    except UnreadableFile as exc:
        ctx.report(node, at, f"{reference}: {exc}")
        return None


def _yaml_type(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__
