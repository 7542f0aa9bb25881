"""The project file (assistants-sync.yaml), environments, and how settings are resolved.

Every setting comes from, in order of precedence: a command-line flag, its environment
variable, the chosen environment's overrides in the project file, the project file's
top level, the built-in default. ``${NAME}`` variables in the file are substituted
like in manifests, so secrets (header values) stay out of the repository.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from .defaults import CONFIG_NAMES, DEFAULT_BASE_URL, DEFAULT_LOCK_LEASE, DEFAULT_PARALLELISM, DEFAULT_STACK
from .errors import ConfigError, Problem, ProjectFileError
from .kinds import default_fields, kinds
from .ownership import STACK_PATTERN
from .desired.yamlload import (UnreadableFile, VariableError, documents, format_path, line_of, read_text, user_path,
                       validation_message, yaml_error_message)

CONFIG_MAX_BYTES = 1024 * 1024
Provider = Literal["openai", "azure", "foundry"]
HeaderName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")]


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    provider: Provider | None = None
    base_url: str | None = None  # azure: the resource endpoint (https://x.openai.azure.com); foundry: the project's
    api_version: str | None = None
    headers: dict[HeaderName, str] | None = None
    stack: Annotated[str, StringConstraints(pattern=STACK_PATTERN)] | None = None
    paths: list[Annotated[str, StringConstraints(min_length=1)]] | None = None
    parallelism: int | None = Field(default=None, ge=1, le=256)
    # Seconds an apply's lock lives unrenewed before a waiting apply takes it over (see applying.lock.Lease).
    lock_lease: float | None = Field(default=None, ge=3, le=86400)
    # Manifest fields for every manifest of a kind that takes them (checked by `_defaults_problems`).
    defaults: dict[str, Any] | None = None


class ProjectConfig(_Settings):
    """assistants-sync.yaml: settings, plus named environments overriding any of them."""

    environments: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]+$")], _Settings] = Field(
        default_factory=dict)


_CONFIG_FIELDS = frozenset(ProjectConfig.model_fields)


@dataclass(frozen=True)
class Settings:
    """Every setting resolved, with where the config file was (paths are relative to it)."""

    provider: Provider = "openai"
    base_url: str | None = None
    api_version: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # values are secrets
    stack: str = DEFAULT_STACK
    paths: tuple[str, ...] = ("specs",)
    parallelism: int = DEFAULT_PARALLELISM
    lock_lease: float = DEFAULT_LOCK_LEASE
    defaults: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict, repr=False)
    config_file: Path | None = None
    environment: str | None = None  # the project file's environment chosen (--env, ASSISTANTS_SYNC_ENV)


def find_config(explicit: str | None, cwd: Path) -> Path | None:
    """The project file: --config FILE, else assistants-sync.yaml in the working directory."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"--config {explicit}: no such file")
        return path
    return next((cwd / name for name in CONFIG_NAMES if (cwd / name).is_file()), None)


def load_config(path: Path, variables: Mapping[str, str]) -> ProjectConfig:
    """The validated project file, or ProjectFileError listing every problem with its line."""
    name = str(path)
    unset: list[VariableError] = []
    try:
        found = [d for d in documents(read_text(path, CONFIG_MAX_BYTES), variables, unset) if d[2] is not None]
    except UnreadableFile as exc:
        raise ProjectFileError(name, [Problem(name, None, "", str(exc))]) from exc
    except VariableError as exc:
        raise ProjectFileError(name, [Problem(name, exc.line, "", str(exc))]) from exc
    except yaml.YAMLError as exc:
        line, message = yaml_error_message(exc)
        raise ProjectFileError(name, [Problem(name, line, "", message)]) from exc
    if unset:
        raise ProjectFileError(name, [Problem(name, e.line, "", str(e)) for e in unset])
    if len(found) > 1:
        raise ProjectFileError(name, [Problem(name, found[1][1].start_mark.line + 1, "",
                                              "a project file holds one document")])
    if not found:
        return ProjectConfig()
    _, node, data = found[0]
    if not isinstance(data, dict):
        raise ProjectFileError(name, [Problem(name, 1, "", "the project file must be a mapping of settings")])
    problems: list[Problem] = []
    try:
        config = ProjectConfig.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            place = user_path(error["loc"])
            problems.append(Problem(name, line_of(node, place), format_path(place),
                                    validation_message(error, _CONFIG_FIELDS)))
    environments = data.get("environments")
    places: list[list[int | str]] = [["defaults"], *(["environments", env, "defaults"] for env in
                                                     (environments if isinstance(environments, dict) else {}))]
    for place in places:
        problems += [Problem(name, line_of(node, [*place, *path]), format_path([*place, *path]), message)
                     for path, message in _defaults_problems(_at(data, place))]
    if problems:
        raise ProjectFileError(name, sorted(problems, key=lambda p: p.line or 0))
    return config


def _at(data: Any, place: list[int | str]) -> Any:
    for part in place:
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _defaults_problems(defaults: Any) -> list[tuple[list[int | str], str]]:
    """What is wrong with a `defaults:` mapping: a field no kind takes, or a value no kind taking it accepts.

    Each manifest gets the fields its kind takes, so a field one kind takes is valid.
    """
    if not isinstance(defaults, dict):
        return []  # not a mapping: ProjectConfig says so
    takers = [(kind, kind.defaults_model) for kind in kinds() if kind.defaults_model is not None]
    settable = frozenset().union(*(default_fields(kind) for kind, _ in takers))
    problems: list[tuple[list[int | str], str]] = []
    for name, value in defaults.items():
        taking = [(kind, model) for kind, model in takers if name in model.model_fields]
        if not taking:
            own = any(name in kind.manifest_model.model_fields for kind in kinds())
            message = ("not a field defaults can set: each manifest gives its own" if own
                       else validation_message({"type": "extra_forbidden", "loc": (name,)}, settable))
            problems.append(([name], message))
            continue
        rejections = []
        for kind, model in taking:
            try:
                model.model_validate({name: value})
                break
            except ValidationError as exc:
                rejections.append((kind, exc.errors()))
        else:
            kind, errors = rejections[0]  # as the first kind (the default one, if it takes it) reads it
            also = f" (as {kind.noun} manifests take it; no kind takes this value)" if len(taking) > 1 else ""
            problems += [(user_path(e["loc"]), validation_message(e) + also) for e in errors]
    return problems


def resolve_settings(
    flags: Mapping[str, Any],
    environ: Mapping[str, str],
    config: ProjectConfig | None,
    config_file: Path | None,
    env_name: str | None,
    variables: Mapping[str, str],
) -> Settings:
    """Merge flags > environment variables > the file's environment > the file > defaults.

    The environment is --env NAME, else ASSISTANTS_SYNC_ENV (as for every other setting).
    """
    layers: list[dict[str, Any]] = []
    chosen_env = f"--env {env_name}"
    if env_name is None and environ.get("ASSISTANTS_SYNC_ENV"):
        env_name = environ["ASSISTANTS_SYNC_ENV"]
        chosen_env = f"ASSISTANTS_SYNC_ENV={env_name}"
    if config is not None:
        layers.append(config.model_dump(exclude_none=True, exclude={"environments"}, by_alias=True))
        if env_name is not None:
            if env_name not in config.environments:
                known = ", ".join(sorted(config.environments)) or "none"
                raise ConfigError(f"{chosen_env}: no such environment in {config_file} (defined: {known})")
            layers.append(config.environments[env_name].model_dump(exclude_none=True, by_alias=True))
    elif env_name is not None:
        raise ConfigError(f"{chosen_env}: there is no project file (assistants-sync.yaml) to define it")
    provider = flags.get("provider") or environ.get("ASSISTANTS_SYNC_PROVIDER") or _pick(layers, "provider")
    if provider not in (None, "openai", "azure", "foundry"):
        raise ConfigError(f"ASSISTANTS_SYNC_PROVIDER={provider!r}: expected openai, azure or foundry")
    from_env = {
        "base_url": environ.get(_BASE_URL_VARIABLES.get(provider or "openai", "OPENAI_BASE_URL")),
        "api_version": environ.get("OPENAI_API_VERSION"),
        "stack": environ.get("ASSISTANTS_SYNC_STACK"),
        "parallelism": environ.get("ASSISTANTS_SYNC_PARALLELISM"),
    }
    chosen: dict[str, Any] = {}
    for key in ("base_url", "api_version", "stack", "parallelism"):
        value = flags.get(key)
        if value is None:
            value = from_env[key] or _pick(layers, key)
        if value is not None:
            chosen[key] = value
    if chosen.get("base_url"):
        env_var = "AZURE_OPENAI_ENDPOINT" if provider == "azure" else "OPENAI_BASE_URL"
        source = ("--base-url" if flags.get("base_url") is not None else env_var if from_env["base_url"]
                  else _file_source(layers, "base_url", config_file, env_name))
        _check_base_url(chosen["base_url"], source)
    headers: dict[str, str] = {}
    for layer in layers:
        headers.update(layer.get("headers") or {})
    headers.update(flags.get("headers") or {})
    defaults: dict[str, Any] = {}
    for layer in layers:
        defaults = _merge_defaults(defaults, layer.get("defaults") or {})
    paths = flags.get("paths") or _config_paths(_pick(layers, "paths"), config_file) or ("specs",)
    try:
        parallelism = int(chosen.get("parallelism", DEFAULT_PARALLELISM))
    except ValueError:
        raise ConfigError(f"ASSISTANTS_SYNC_PARALLELISM={chosen['parallelism']!r}: not a whole number") from None
    lease = flags.get("lock_lease")
    return Settings(
        lock_lease=float(lease if lease is not None else _pick(layers, "lock_lease") or DEFAULT_LOCK_LEASE),
        provider="azure" if provider == "azure" else "foundry" if provider == "foundry" else "openai",
        base_url=chosen.get("base_url"),
        api_version=chosen.get("api_version"),
        headers=headers,
        stack=chosen.get("stack", DEFAULT_STACK),
        paths=tuple(paths),
        parallelism=parallelism,
        defaults=defaults,
        variables=variables,
        config_file=config_file,
        environment=env_name,
    )


def defaults_as_written(settings: Settings) -> dict[str, Any]:
    """`settings.defaults` with ``${NAME}`` left as the project file writes it (for files that are written).

    The file was checked when the settings were resolved, so it is one mapping here.
    """
    if settings.config_file is None:
        return {}
    found = [d for _, _, d in documents(read_text(settings.config_file, CONFIG_MAX_BYTES)) if d is not None]
    top = found[0] if found else {}
    layers = [top.get("defaults") or {}]
    if settings.environment is not None:
        layers.append(((top.get("environments") or {}).get(settings.environment) or {}).get("defaults") or {})
    defaults: dict[str, Any] = {}
    for layer in layers:  # as resolve_settings merges them; a null sets nothing there either
        defaults = _merge_defaults(defaults, {k: v for k, v in layer.items() if v is not None})
    return defaults


_BASE_URL_VARIABLES = {"azure": "AZURE_OPENAI_ENDPOINT", "foundry": "AZURE_AI_PROJECT_ENDPOINT"}


def endpoint_settings(settings: Settings, environ: Mapping[str, str]) -> dict[str, Any]:
    """Keyword arguments for the Endpoint of these settings (keys come from the environment only)."""
    if settings.provider == "foundry":
        return _foundry_settings(settings, environ)
    if settings.provider == "azure":
        if not settings.base_url:
            raise ConfigError("--provider azure needs the resource endpoint: set AZURE_OPENAI_ENDPOINT "
                              "(https://NAME.openai.azure.com) or base_url in assistants-sync.yaml")
        return {
            "azure": True,
            "endpoint": settings.base_url,
            "api_version": settings.api_version or "",
            "api_key": environ.get("AZURE_OPENAI_API_KEY", ""),
            "ad_token": environ.get("AZURE_OPENAI_AD_TOKEN", ""),
            "extra_headers": dict(settings.headers),
        }
    api_key = environ.get("OPENAI_API_KEY", "")
    if not api_key and not settings.headers:
        raise ConfigError("OPENAI_API_KEY is not set: export the endpoint's API key (it is never taken as a flag)")
    return {
        "azure": False,
        "base_url": settings.base_url or DEFAULT_BASE_URL,
        "api_key": api_key,
        "organization": environ.get("OPENAI_ORG_ID") or None,
        "project": environ.get("OPENAI_PROJECT_ID") or None,
        "api_version": settings.api_version,
        "extra_headers": dict(settings.headers),
    }


def _foundry_settings(settings: Settings, environ: Mapping[str, str]) -> dict[str, Any]:
    """Endpoint.foundry's arguments (marked "foundry": True): the project endpoint and a token cache."""
    from .actual.auth import BearerTokens, token_provider_from
    from .actual.client import FOUNDRY_API_VERSION, FOUNDRY_ENDPOINT_SHAPE, check_project_endpoint

    if not settings.base_url:
        raise ConfigError(f"--provider foundry needs the project endpoint: set AZURE_AI_PROJECT_ENDPOINT "
                          f"({FOUNDRY_ENDPOINT_SHAPE}) or base_url in assistants-sync.yaml")
    endpoint = check_project_endpoint(settings.base_url)  # before signing in: a wrong URL needs no token
    return {
        "azure": False,
        "foundry": True,
        "endpoint": endpoint,
        "api_version": settings.api_version or FOUNDRY_API_VERSION,
        "tokens": BearerTokens(token_provider_from(environ)),
        "extra_headers": dict(settings.headers),
    }


def parse_header(text: str) -> tuple[str, str]:
    """'Name: value' -> (name, value), for --header."""
    name, separator, value = text.partition(":")
    if not separator or not name.strip():
        raise ConfigError(f"--header expects 'Name: value', got {text.split(':')[0]!r}...")
    return name.strip(), value.strip()


def parse_variable(text: str) -> tuple[str, str]:
    """'NAME=VALUE' -> (name, value), for --var."""
    name, separator, value = text.partition("=")
    if not separator or not name.isidentifier():
        raise ConfigError(f"--var expects NAME=VALUE with NAME a variable name, got {text!r}")
    return name, value


def variables_from(environ: Mapping[str, str], assignments: tuple[str, ...]) -> dict[str, str]:
    """Variables for ${NAME}: the environment, overridden by --var NAME=VALUE."""
    variables = dict(environ)
    variables.update(parse_variable(a) for a in assignments)
    return variables


def _check_base_url(url: str, source: str) -> None:
    """A base URL is a prefix for request paths: a query or fragment would end up in the wrong place."""
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        host = parts.netloc.rpartition("@")[2]  # never user:password@
        shown = urlunsplit((parts.scheme, host, parts.path, "", ""))
        raise ConfigError(
            f"{source}: the base URL {shown} has a {'query (?...)' if parts.query else 'fragment (#...)'}, "
            "which cannot be combined with the request paths appended to it; remove it (use --api-version "
            "for ?api-version=, --header for credentials)"
        )


def _file_source(layers: list[dict[str, Any]], key: str, config_file: Path | None, env_name: str | None) -> str:
    """Where in the project file `key` was found: the environment's overrides or the top level."""
    if env_name is not None and len(layers) > 1 and layers[-1].get(key) is not None:
        return f"{config_file}: environments.{env_name}.{key}"
    return f"{config_file}: {key}"


def _pick(layers: list[dict[str, Any]], key: str) -> Any:
    for layer in reversed(layers):  # the environment overlay wins over the top level
        if layer.get(key) is not None:
            return layer[key]
    return None


def _config_paths(paths: list[str] | None, config_file: Path | None) -> tuple[str, ...] | None:
    if not paths:
        return None
    base = config_file.parent if config_file is not None else Path(".")
    return tuple(os.path.normpath(base / p) if not os.path.isabs(p) else p for p in paths)


def _merge_defaults(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **override}
    if "metadata" in base and "metadata" in override:
        merged["metadata"] = {**base["metadata"], **override["metadata"]}
    return merged
