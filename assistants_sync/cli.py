"""Command line: parses options, calls the library, chooses exit codes.

Exit codes: 0 success (and, with --detailed-exitcode, "no changes"); 1 any error,
usage errors included; 2 changes present (--detailed-exitcode, drift); 130 apply
interrupted by Ctrl-C. Usage errors exit 1, not click's usual 2, so that a cron job
never reads a typo as drift.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

# Only light modules here: `assistants-sync --help` must start fast. The pipeline
# (pydantic, httpx, jsonschema) is imported inside the commands that use it.
from .defaults import DEFAULT_BASE_URL, DEFAULT_PARALLELISM, DEFAULT_STACK
from .errors import ConfigError, SyncError
from .ownership import check_stack
from .retry import RetryPolicy

if TYPE_CHECKING:
    from .client import AssistantsClient
    from .config import Settings
    from .plan import Plan
    from .render import View

F = TypeVar("F", bound=Callable[..., Any])
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class _Target:
    """Resolved settings, and how patiently to talk to the endpoint."""

    settings: Settings
    max_attempts: int = RetryPolicy.max_attempts
    request_timeout: float = RetryPolicy.deadline

    @property
    def stack(self) -> str:
        return self.settings.stack

    def paths(self, given: tuple[str, ...]) -> tuple[str, ...]:
        """PATH arguments, else the project file's paths, else specs/."""
        return given or self.settings.paths

    @property
    def manifest_options(self) -> dict[str, Any]:
        """The project's defaults and variables, and its file, for load_manifests / plan_from_manifests."""
        return {"defaults": self.settings.defaults, "variables": self.settings.variables,
                "project_file": self.settings.config_file}

    def client(self, *, stop: threading.Event | None = None) -> AssistantsClient:
        from .client import AssistantsClient, Endpoint
        from .config import endpoint_settings

        _checked_stack(self.stack)
        arguments = endpoint_settings(self.settings, os.environ)
        endpoint = Endpoint.azure(**{k: v for k, v in arguments.items() if k != "azure"}) if arguments.pop("azure") \
            else Endpoint(**arguments)
        warning = endpoint.plain_http_warning()
        if warning:
            click.echo(warning, err=True)
        policy = RetryPolicy(max_attempts=self.max_attempts, deadline=self.request_timeout)
        return AssistantsClient(endpoint, retry=policy, stop=stop)


def _resolve(config: str | None, env_name: str | None, variables: tuple[str, ...], flags: dict[str, Any]) -> Settings:
    from .config import find_config, load_config, resolve_settings, variables_from

    values = variables_from(os.environ, variables)
    path = find_config(config, Path.cwd())
    project = load_config(path, values) if path is not None else None
    return resolve_settings(flags, os.environ, project, path, env_name, values)


def _project_options(func: F) -> F:
    """--config, --env, --var: passed on as `target` (with the project's settings)."""

    @functools.wraps(func)
    def wrapper(*args: Any, config: str | None, env_name: str | None, variables: tuple[str, ...], **kwargs: Any
                ) -> Any:
        flags: dict[str, Any] = {name: kwargs.pop(name) for name in ("provider", "base_url", "api_version", "stack")
                                 if name in kwargs}
        flags["headers"] = dict(_header(h) for h in kwargs.pop("headers", ()))
        flags["parallelism"] = kwargs.get("parallelism")
        retry = {name: kwargs.pop(name) for name in ("max_attempts", "request_timeout") if name in kwargs}
        target = _Target(_resolve(config, env_name, variables, flags), **retry)
        if "parallelism" in kwargs:
            kwargs["parallelism"] = target.settings.parallelism
        return func(*args, target=target, **kwargs)

    options = [
        click.option("--config", metavar="FILE", help="Project file (default: ./assistants-sync.yaml if present)."),
        click.option("--env", "env_name", metavar="NAME", help="Use the project file's environment NAME."),
        click.option("--var", "variables", metavar="NAME=VALUE", multiple=True,
                     help="Set ${NAME} in manifests and the project file (repeatable; wins over the environment)."),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def _target_options(func: F) -> F:
    """Where to connect and as whom, on top of the project options. Flags win over everything."""
    options = [
        click.option("--provider", type=click.Choice(["openai", "azure"]), default=None,
                     help="openai (also any compatible endpoint) or azure. [env: ASSISTANTS_SYNC_PROVIDER; default: openai]"),
        click.option("--base-url", default=None,
                     help=f"Endpoint base URL (Azure: the resource endpoint). [env: OPENAI_BASE_URL or "
                          f"AZURE_OPENAI_ENDPOINT; default: {DEFAULT_BASE_URL}]"),
        click.option("--api-version", default=None, help="Sent as ?api-version= (required by Azure). [env: OPENAI_API_VERSION]"),
        click.option("--header", "headers", metavar="'NAME: VALUE'", multiple=True,
                     help="Extra header for every request, e.g. a gateway's key (repeatable; values are never shown)."),
        click.option("--stack", default=None,
                     help=f"Ownership scope: only assistants tagged with this stack are planned. "
                          f"[env: ASSISTANTS_SYNC_STACK; default: {DEFAULT_STACK}]"),
        click.option("--max-attempts", type=click.IntRange(1, 100), default=RetryPolicy.max_attempts,
                     show_default=True, help="Attempts per request (429, 5xx, timeouts and dropped "
                                             "connections are retried)."),
        click.option("--request-timeout", type=click.FloatRange(1, 3600), default=RetryPolicy.deadline,
                     show_default=True, help="Seconds one request may take, all attempts and waits included."),
    ]
    for option in reversed(options):
        func = option(func)
    return _project_options(func)


def _paths_argument(func: F) -> F:
    return click.argument("paths", nargs=-1, type=click.Path(path_type=str))(func)


def _header(text: str) -> tuple[str, str]:
    from .config import parse_header

    return parse_header(text)


def _output_options(func: F) -> F:
    func = click.option("--no-color", is_flag=True, help="No ANSI colours (also when NO_COLOR is set).")(func)
    func = click.option(
        "--format", "output_format", type=click.Choice(["text", "json", "markdown"]), default="text",
        show_default=True, help="text for people, json (stable, format_version 1) for tools, markdown for pull requests.",
    )(func)
    return func


def _delete_options(func: F) -> F:
    func = click.option("--allow-delete-all", is_flag=True,
                        help="Allow a plan that deletes every managed assistant of the stack.")(func)
    func = click.option("--no-delete", is_flag=True, help="Plan creates and updates only; never delete.")(func)
    return func


def _use_color(no_color: bool) -> bool:
    return _stdout_is_terminal() and not no_color and not os.environ.get("NO_COLOR")


def _show(plan: Plan, output_format: str, no_color: bool, view: View = "plan") -> None:
    """Print a plan in the chosen format (colour only for text on a terminal)."""
    from .render import render_json, render_markdown, render_text

    if output_format == "json":
        click.echo(render_json(plan), nl=False)
    elif output_format == "markdown":
        click.echo(render_markdown(plan, view=view), nl=False)
    else:
        color = _use_color(no_color)
        click.echo(render_text(plan, color=color, view=view), nl=False, color=color)


def _reports_errors(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SyncError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper  # type: ignore[return-value]


def _checked_stack(stack: str) -> str:
    problem = check_stack(stack)
    if problem:
        raise ConfigError(f"--stack: {problem}")
    return stack


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


class _Cli(click.Group):
    """A group whose usage errors exit 1 (2 is reserved for "there are changes")."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:  # type: ignore[override]
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(EXIT_ERROR)
        except click.ClickException as exc:
            exc.show()
            sys.exit(EXIT_ERROR)
        if standalone_mode:
            sys.exit(result if isinstance(result, int) else 0)
        return result


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="assistants-sync")
@click.option("-v", "--verbose", is_flag=True, help="Log every request (method, URL, status, time; never headers).")
def cli(verbose: bool) -> None:
    """Declarative plan/apply for Assistants on any OpenAI-compatible endpoint.

    \b
    Example:
      export OPENAI_API_KEY=sk-...
      assistants-sync validate specs
      assistants-sync plan specs --out plan.json
      assistants-sync apply --plan plan.json
    """
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger = logging.getLogger("assistants_sync")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


@cli.command()
@_reports_errors
@_paths_argument
@_project_options
def validate(paths: tuple[str, ...], target: _Target) -> None:
    """Check manifests without contacting the API; report every problem.

    \b
    Example:
      assistants-sync validate specs
      assistants-sync validate --env staging --var TEAM=search
    Exit 0 when every manifest is valid, 1 otherwise.
    """
    from .manifest import load_manifests

    desired = load_manifests(target.paths(paths), **target.manifest_options)
    click.echo(f"{len(desired)} assistant manifest{'s' if len(desired) != 1 else ''} valid.")


@cli.command()
@_reports_errors
@_paths_argument
@_target_options
@_output_options
@_delete_options
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=str),
              help="Save the plan to FILE for `apply --plan FILE`.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there is nothing to do, 2 when there are changes, 1 on errors.")
def plan(paths: tuple[str, ...], target: _Target, output_format: str, no_color: bool, no_delete: bool,
         allow_delete_all: bool, out_file: str | None, detailed_exitcode: bool) -> None:
    """Show what apply would change: + create, > adopt, ~ update, - delete.

    \b
    Example:
      assistants-sync plan specs --detailed-exitcode   # 0 nothing to do, 2 changes
      assistants-sync plan --env production --format markdown >> "$GITHUB_STEP_SUMMARY"
      assistants-sync plan specs --format json --out plan.json
    """
    from .reconcile import plan_from_manifests, save_plan

    with target.client() as client:
        result = plan_from_manifests(target.paths(paths), client, target.stack, allow_delete=not no_delete,
                                     allow_delete_all=allow_delete_all, **target.manifest_options)
    _show(result, output_format, no_color)
    if out_file:
        save_plan(result, out_file)
        click.echo(f"Saved the plan to {out_file}; apply exactly it with: assistants-sync apply --plan {out_file}",
                   err=output_format != "text")
    if detailed_exitcode and not result.is_empty:
        sys.exit(EXIT_CHANGES)


@cli.command()
@_reports_errors
@_paths_argument
@_target_options
@_output_options
def drift(paths: tuple[str, ...], target: _Target, output_format: str, no_color: bool) -> None:
    """Report only changes made outside assistants-sync, for cron jobs that page someone.

    \b
    Example:
      assistants-sync drift specs || [ $? -ne 2 ] || notify-on-call
    Exit 0 no drift, 2 drift, 1 error.
    """
    from .reconcile import drift_only, plan_from_manifests

    with target.client() as client:
        full = plan_from_manifests(target.paths(paths), client, target.stack, **target.manifest_options)
    result = drift_only(full)
    _show(result, output_format, no_color, view="drift")
    if not result.is_empty:
        sys.exit(EXIT_CHANGES)


@cli.command()
@_reports_errors
@_target_options
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the manifests into.")
@click.option("--unmanaged", is_flag=True,
              help="Export assistants without any ownership tag, with `adopt:` so apply takes them over.")
def export(target: _Target, out_dir: Path, unmanaged: bool) -> None:
    """Write one manifest per remote assistant of the stack (or per unmanaged one).

    \b
    Example:
      assistants-sync export --unmanaged --out specs/imported
      assistants-sync plan specs     # shows only the adoptions, no content change
    """
    from .export import export_manifests
    from .remote import fetch_actual

    with target.client() as client:
        actual = fetch_actual(client, target.stack)
    written = export_manifests(actual, out_dir, unmanaged=unmanaged)
    for item in written:
        click.echo(f"  {item.path}  ({item.assistant_id})")
    kind = "unmanaged" if unmanaged else f'stack "{target.stack}"'
    click.echo(f"Exported {len(written)} assistant{'s' if len(written) != 1 else ''} ({kind}) to {out_dir}.")


@cli.command()
@_reports_errors
@_paths_argument
@_target_options
@_delete_options
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False, path_type=str),
              help="Apply exactly this saved plan (from `plan --out`); it is the approval.")
@click.option("--parallelism", type=click.IntRange(1, 256), default=None, envvar="ASSISTANTS_SYNC_PARALLELISM",
              help=f"Changes applied at once. [env: ASSISTANTS_SYNC_PARALLELISM; default: {DEFAULT_PARALLELISM}]")
@click.option("--no-color", is_flag=True, help="No ANSI colours (also when NO_COLOR is set).")
def apply(paths: tuple[str, ...], target: _Target, no_delete: bool, allow_delete_all: bool,
          auto_approve: bool, plan_file: str | None, parallelism: int, no_color: bool) -> None:
    """Make the endpoint match the manifests (or carry out a saved plan).

    \b
    Example:
      assistants-sync apply specs                 # shows the plan, asks 'yes'
      assistants-sync apply specs --auto-approve  # in CI
      assistants-sync apply --plan plan.json      # exactly the reviewed plan
    Exit 0 when every change succeeded, 1 when any failed (the others are still
    tried), 130 when interrupted (changes in flight finish; none is left half-done).
    """
    from .reconcile import check_saved_plan, load_plan, plan_from_manifests

    if plan_file and paths:
        raise ConfigError("give either manifest PATHs or --plan FILE, not both: a saved plan already holds its changes")
    with target.client() as client:
        if plan_file:
            planned = load_plan(plan_file)
            check_saved_plan(planned, client, target.stack)
        else:
            planned = plan_from_manifests(target.paths(paths), client, target.stack, allow_delete=not no_delete,
                                          allow_delete_all=allow_delete_all, **target.manifest_options)
        _show(planned, "text", no_color)
        if planned.is_empty:
            return
        if not (plan_file or auto_approve):
            _confirm()
        _apply_and_report(planned, client, parallelism)


@cli.command()
@_reports_errors
@_paths_argument
@_project_options
@click.option("--format", "output_format", type=click.Choice(["responses"]), required=True,
              help="responses: the Responses API request parameters that reproduce each assistant.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write one KEY.json per manifest here (default: one JSON document on stdout).")
def render(paths: tuple[str, ...], target: _Target, output_format: str, out_dir: Path | None) -> None:
    """Translate manifests for leaving the Assistants API (no API request is made).

    \b
    Example:
      assistants-sync render --format responses specs --out responses/
    Each file holds `request` (model, instructions, tools, text.format, reasoning...)
    and `notes` for anything with no Responses equivalent.
    """
    import json

    from .manifest import load_manifests
    from .responses import responses_request

    desired = load_manifests(target.paths(paths), **target.manifest_options)
    rendered = {d.key: responses_request(d) for d in desired}
    if out_dir is None:
        click.echo(json.dumps(rendered, indent=2, ensure_ascii=False))
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for key, document in rendered.items():
        (out_dir / f"{key}.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    click.echo(f"Wrote {len(rendered)} Responses request file{'s' if len(rendered) != 1 else ''} to {out_dir}.")


@cli.command()
@_reports_errors
@click.option("--kind", type=click.Choice(["manifest", "config"]), default="manifest", show_default=True,
              help="manifest: one assistant document; config: assistants-sync.yaml.")
def schema(kind: str) -> None:
    """Print the JSON Schema of manifests (or of the project file), for editors.

    \b
    Example:
      assistants-sync schema > assistants-sync.schema.json
      # then, first line of a manifest:
      # yaml-language-server: $schema=./assistants-sync.schema.json
    """
    import json

    from .schema import config_schema, manifest_schema

    click.echo(json.dumps(manifest_schema() if kind == "manifest" else config_schema(), indent=2))


def _confirm() -> None:
    if not _stdin_is_terminal():
        raise ConfigError(
            "apply needs approval and there is no terminal to ask: pass --auto-approve, "
            "or apply a reviewed plan with --plan FILE; nothing was changed"
        )
    answer = click.prompt("\nDo you want to perform these actions? Only 'yes' will be accepted", default="",
                          show_default=False)
    if answer.strip() != "yes":
        raise ConfigError("apply cancelled; nothing was changed")


def _apply_and_report(planned: Plan, client: AssistantsClient, parallelism: int) -> None:
    from .apply import apply_plan
    from .progress import ApplyProgress
    from .render import render_apply_summary

    click.echo("")
    retried_before = client.stats.retries
    terminal = _stdout_is_terminal()
    with ApplyProgress(len(planned.changes), sys.stdout, terminal=terminal,
                       rate_limit_wait=client.limiter.remaining) as progress:
        result = apply_plan(planned, client, on_outcome=progress, parallelism=parallelism)
    click.echo("\n" + render_apply_summary(result, retries=client.stats.retries - retried_before), nl=False)
    if result.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if result.failed:
        sys.exit(EXIT_ERROR)


@cli.command()
@click.option("--require-header", "required", metavar="'NAME: VALUE'", multiple=True,
              help="Answer 401 unless this header is sent with this value, like a gateway (repeatable).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on (0 = any free port).")
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=str),
              help="Keep the assistants in this JSON file across restarts (default: memory only).")
@click.option("--load", "load_file", type=click.Path(exists=True, dir_okay=False, path_type=str),
              help="Start with the assistants in this JSON file; keep changes in memory only.")
@click.option("--api-key-env", metavar="NAME",
              help="Accept only the key in environment variable NAME (default: any non-empty key).")
@click.option("--latency-ms", type=click.IntRange(0), default=0, help="Fault: added to every request.")
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Fault: share of requests answered 429 or 500.")
@click.option("--drop-create-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Fault: share of creates stored, then left unanswered (connection dropped).")
@click.option("--malformed-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Fault: share of answers replaced by broken JSON or an HTML error page.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fault generator.")
def emulator(required: tuple[str, ...], host: str, port: int, state_file: str | None, load_file: str | None,
             api_key_env: str | None, latency_ms: int,
             error_rate: float, drop_create_rate: float, malformed_rate: float, seed: int) -> None:
    """Serve a local emulator of the Assistants API (for tests and trials).

    \b
    Example:
      assistants-sync emulator --port 8080 --state emulator.json &
      OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_API_KEY=anything assistants-sync plan specs
      assistants-sync emulator --error-rate 0.25 --latency-ms 20   # a flaky, slow endpoint
    Serves the OpenAI shape at /v1 and Azure's at /openai (?api-version=, api-key).
    """
    from .emulator import AssistantStore, Faults, make_server

    api_key = os.environ.get(api_key_env, "") if api_key_env else None
    faults = Faults(latency=latency_ms / 1000, error_rate=error_rate, drop_create_rate=drop_create_rate,
                    malformed_rate=malformed_rate, seed=seed)
    if state_file and load_file:
        raise click.UsageError("give --state (load and save) or --load (load only), not both")
    store = AssistantStore(load_file, persist=False) if load_file else AssistantStore(state_file)
    required_headers = dict(_header(h) for h in required)
    server = make_server(store, host=host, port=port, api_key=api_key or None, faults=faults,
                         required_headers=required_headers)
    click.echo(f"Emulator serving the Assistants API at {server.base_url} (Ctrl-C to stop)")
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


@cli.command()
@_reports_errors
@_paths_argument
@click.option("--stack", default=DEFAULT_STACK, show_default=True, help="Stack to use on the emulator.")
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=str),
              help="Emulator state file, so a later demo starts from this one's result.")
def demo(paths: tuple[str, ...], stack: str, state_file: str | None) -> None:
    """Plan and apply manifests against a throwaway local emulator: no key, no network.

    \b
    Example:
      assistants-sync demo specs
    Runs plan, apply and a second plan, which must report no changes.
    """
    from .client import AssistantsClient, Endpoint
    from .emulator import AssistantStore, running_emulator
    from .manifest import load_manifests
    from .reconcile import plan_from_manifests

    stack = _checked_stack(stack)
    paths = paths or ("specs",)
    load_manifests(paths)  # invalid manifests fail before the emulator starts
    with running_emulator(AssistantStore(state_file)) as server:
        click.echo(f"Started an emulator at {server.base_url}\n")
        with AssistantsClient(Endpoint(server.base_url, api_key="emulator-demo-key")) as client:
            click.echo("$ assistants-sync plan")
            planned = plan_from_manifests(paths, client, stack)
            _show(planned, "text", no_color=False)
            if not planned.is_empty:
                click.echo("\n$ assistants-sync apply --auto-approve", nl=False)
                _apply_and_report(planned, client, DEFAULT_PARALLELISM)
            click.echo("\n$ assistants-sync plan   # again: the endpoint now matches the manifests")
            again = plan_from_manifests(paths, client, stack)
            _show(again, "text", no_color=False)
    if not again.is_empty:
        raise SyncError("the second plan is not empty: this is a bug in assistants-sync, please report it")


def main() -> None:
    """Console entry point."""
    cli()
