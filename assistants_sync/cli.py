"""Command line: parses options, calls the library, chooses exit codes.

Exit codes: 0 success (and, with --detailed-exitcode, "no changes"); 1 any error,
usage errors included; 2 changes present (--detailed-exitcode, drift); 130
interrupted by Ctrl-C. Usage errors exit 1, not click's usual 2, so that a cron job
never reads a typo as drift. Errors become messages in one place (`_Cli.main`), and
everything printed passes a `Redactor` there: no secret reaches stdout or stderr.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

# Only light modules here: `assistants-sync --help` must start fast. The pipeline
# (pydantic, httpx, jsonschema) is imported inside the commands that use it.
from .defaults import DEFAULT_BASE_URL, DEFAULT_LOCK_LEASE, DEFAULT_PARALLELISM, DEFAULT_STACK
from .errors import ConfigError, SyncError
from .ownership import KEY_PATTERN, check_stack
from .redact import MaskingStream, Redactor
from .actual.retry import RetryPolicy

if TYPE_CHECKING:
    from .actual.client import AssistantsClient
    from .config import Settings
    from .applying.lock import LockInfo
    from .planning.plan import Plan
    from .render.plans import View
    from .render.valuediff import DiffStyle

F = TypeVar("F", bound=Callable[..., Any])
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130
# Secrets known by the environment variables that hold them; more are added as settings resolve.
_SECRET_VARIABLES = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN", "AZURE_AI_TOKEN")
_redactor: ContextVar[Redactor] = ContextVar("assistants_sync_redactor")


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
        from .actual.client import AssistantsClient
        from .session import build_endpoint

        _checked_stack(self.stack)
        endpoint = build_endpoint(self.settings, os.environ)
        warning = endpoint.plain_http_warning()
        if warning:
            click.echo(warning, err=True)
        policy = RetryPolicy(max_attempts=self.max_attempts, deadline=self.request_timeout)
        return AssistantsClient(endpoint, retry=policy, stop=stop, redactor=_current_redactor())


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
        flags["lock_lease"] = kwargs.get("lock_lease")
        retry = {name: kwargs.pop(name) for name in ("max_attempts", "request_timeout") if name in kwargs}
        target = _Target(_resolve(config, env_name, variables, flags), **retry)
        if "parallelism" in kwargs:
            kwargs["parallelism"] = target.settings.parallelism
        if "lock_lease" in kwargs:
            kwargs["lock_lease"] = target.settings.lock_lease
        return func(*args, target=target, **kwargs)

    options = [
        click.option("--config", metavar="FILE", help="Project file (default: ./assistants-sync.yaml if present)."),
        click.option("--env", "env_name", metavar="NAME",
                     help="Use the project file's environment NAME. [env: ASSISTANTS_SYNC_ENV]"),
        click.option("--var", "variables", metavar="NAME=VALUE", multiple=True,
                     help="Set ${NAME} in manifests and the project file (repeatable; wins over the environment)."),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def _target_options(func: F) -> F:
    """Where to connect and as whom, on top of the project options. Flags win over everything."""
    options = [
        click.option("--provider", type=click.Choice(["openai", "azure", "foundry"]), default=None,
                     help="openai (also any compatible endpoint), azure (Azure OpenAI's URL shape) or foundry "
                          "(Azure AI Foundry, Entra ID sign-in). [env: ASSISTANTS_SYNC_PROVIDER; default: openai]"),
        click.option("--base-url", default=None,
                     help=f"Endpoint base URL (Azure: the resource endpoint; Foundry: the project endpoint). "
                          f"[env: OPENAI_BASE_URL, AZURE_OPENAI_ENDPOINT or AZURE_AI_PROJECT_ENDPOINT; "
                          f"default: {DEFAULT_BASE_URL}]"),
        click.option("--api-version", default=None, help="Sent as ?api-version= (required by Azure; Foundry: default v1). [env: OPENAI_API_VERSION]"),
        click.option("--header", "headers", metavar="'NAME: VALUE'", multiple=True,
                     help="Extra header for every request, e.g. a gateway's key (repeatable; values are never shown)."),
        click.option("--stack", default=None,
                     help=f"Ownership scope: only objects tagged with this stack are planned. "
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
        show_default=True, help="text for people, json (stable, format_version 2) for tools, markdown for pull requests.",
    )(func)
    return func


def _diff_options(func: F) -> F:
    """--diff-context N and --full-diff: passed on as `diff` (a DiffStyle)."""

    @functools.wraps(func)
    def wrapper(*args: Any, diff_context: int | None, full_diff: bool, **kwargs: Any) -> Any:
        from .render.valuediff import CONTEXT_LINES, DiffStyle

        context = CONTEXT_LINES if diff_context is None else diff_context
        diff = DiffStyle.full(context) if full_diff else DiffStyle(context=context)
        return func(*args, diff=diff, **kwargs)

    wrapper = click.option("--full-diff", is_flag=True,
                           help="Show text diffs whole: never cut a long diff or a long new text.")(wrapper)
    wrapper = click.option("--diff-context", type=click.IntRange(0, 100_000), default=None, metavar="N",
                           help="Unchanged lines shown around each change of a multi-line text. [default: 2]")(wrapper)
    return wrapper  # type: ignore[return-value]


def _targets_option(func: F) -> F:
    return click.option(
        "--target", "targets", metavar="KEY", multiple=True, callback=_checked_keys,
        help="Plan only this key (repeatable): a partial plan, as Terraform's -target. A key without a manifest "
             "is planned for deletion.",
    )(func)


def _checked_keys(ctx: click.Context, param: click.Parameter, keys: tuple[str, ...]) -> tuple[str, ...]:
    bad = [k for k in keys if not re.fullmatch(KEY_PATTERN, k)]
    if bad:
        raise click.BadParameter(f"{bad[0]!r} is not a manifest key (pattern {KEY_PATTERN})")
    return keys


def _delete_options(func: F) -> F:
    func = click.option("--allow-delete-all", is_flag=True,
                        help="Allow a plan that deletes every managed object of the stack.")(func)
    func = click.option("--no-delete", is_flag=True, help="Plan creates and updates only; never delete.")(func)
    return func


def _use_color(no_color: bool) -> bool:
    return _stdout_is_terminal() and not no_color and not os.environ.get("NO_COLOR")


def _show(plan: Plan, output_format: str, no_color: bool, view: View = "plan", diff: DiffStyle | None = None
          ) -> None:
    """Print a plan in the chosen format (colour only for text on a terminal)."""
    from .render.plans import render_json, render_markdown, render_text
    from .render.valuediff import DiffStyle

    diff = diff or DiffStyle()
    if output_format == "json":
        click.echo(render_json(plan), nl=False)
    elif output_format == "markdown":
        click.echo(render_markdown(plan, view=view, diff=diff), nl=False)
    else:
        color = _use_color(no_color)
        click.echo(render_text(plan, color=color, view=view, diff=diff), nl=False, color=color)


def _save(plan: Plan, out_file: str) -> None:
    """Save a plan with every secret this run knows masked (a server may have echoed one into a field)."""
    from .planning.saved import save_plan

    save_plan(plan, out_file, redactor=_current_redactor())


def _current_redactor() -> Redactor:
    """This run's Redactor (a fresh one when the library is used without the CLI's main)."""
    try:
        return _redactor.get()
    except LookupError:
        redactor = Redactor()
        _redactor.set(redactor)
        return redactor


@contextmanager
def _masked_output(redactor: Redactor) -> Iterator[None]:
    """stdout and stderr (so also click, progress lines and the -v log) masked by `redactor`."""
    token = _redactor.set(redactor)
    saved = sys.stdout, sys.stderr
    sys.stdout = MaskingStream(sys.stdout, redactor)  # type: ignore[assignment]
    sys.stderr = MaskingStream(sys.stderr, redactor)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        _redactor.reset(token)


def _checked_stack(stack: str) -> str:
    problem = check_stack(stack)
    if problem:
        raise ConfigError(f"--stack: {problem}")
    return stack


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


class _VerboseHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stderr handler of -v (a class of its own, to find it again)."""


def _log_requests(ctx: click.Context, param: click.Parameter, verbose: bool) -> None:
    """-v: log every request to stderr, until the command ends (once, however often -v is given)."""
    logger = logging.getLogger("assistants_sync")
    if not verbose or any(isinstance(h, _VerboseHandler) for h in logger.handlers):
        return
    handler = _VerboseHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

    def stop_logging() -> None:
        logger.removeHandler(handler)
        logger.setLevel(level)

    ctx.call_on_close(stop_logging)


_VERBOSE_HELP = "Log every request (method, URL with its query, status, time; never headers)."


def _verbose_option(func: F) -> F:
    return click.option("-v", "--verbose", is_flag=True, expose_value=False, callback=_log_requests,
                        help=_VERBOSE_HELP)(func)


class _Command(click.Command):
    """A command that also takes -v after its name (`assistants-sync plan -v`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(click.Option(["-v", "--verbose"], is_flag=True, expose_value=False,
                                        callback=_log_requests, help=_VERBOSE_HELP))


class _Cli(click.Group):
    """The one place where errors become messages and exit codes, and where output is masked.

    Usage errors exit 1 (2 is reserved for "there are changes"); library errors
    (SyncError) and failures of the system (OSError: a port in use, a directory that
    cannot be written) print "Error: ..." and exit 1.
    """

    command_class = _Command

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:  # type: ignore[override]
        redactor = Redactor(os.environ.get(name, "") for name in _SECRET_VARIABLES)
        with _masked_output(redactor):
            result = self._main_reporting_errors(*args, **kwargs)
        if standalone_mode:
            sys.exit(result if isinstance(result, int) else 0)
        return result

    def _main_reporting_errors(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.exceptions.Abort as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):  # Ctrl-C (at a prompt, click raises Abort from None)
                # Commands that write say more where they catch it (apply); anything else only read.
                click.echo("Interrupted; nothing was changed.", err=True)
                sys.exit(EXIT_INTERRUPTED)
            click.echo("Aborted.", err=True)
        except click.ClickException as exc:
            exc.show()
        except SyncError as exc:
            click.echo(f"Error: {exc}", err=True)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            click.echo(f"Error: {exc.strerror or exc}{where}", err=True)
        sys.exit(EXIT_ERROR)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="assistants-sync")
@_verbose_option
def cli() -> None:
    """Declarative plan/apply for AI objects kept in git: assistants, agents and the vector
    stores and files behind them, on OpenAI-compatible endpoints and Azure AI Foundry.

    \b
    Example:
      export OPENAI_API_KEY=sk-...
      assistants-sync validate specs
      assistants-sync plan specs --out plan.json
      assistants-sync apply --plan plan.json
    """


@cli.command()
@_paths_argument
@_project_options
def validate(paths: tuple[str, ...], target: _Target) -> None:
    """Check manifests without contacting the API; report every problem.

    \b
    Example:
      assistants-sync validate specs
      assistants-sync validate --env staging --var TEAM=search
    Exit 0 when every manifest is valid, 1 otherwise (also when there is none at all).
    """
    from .desired.manifest import load_manifests, require_manifests

    desired = load_manifests(target.paths(paths), **target.manifest_options)
    require_manifests(desired, target.paths(paths))
    from .kinds import counted_manifests

    click.echo(f"{counted_manifests({d.kind for d in desired}, len(desired))} valid.")


@cli.command()
@_paths_argument
@_target_options
@_output_options
@_diff_options
@_delete_options
@_targets_option
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=str),
              help="Save the plan to FILE for `apply --plan FILE`.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there is nothing to do, 2 when there are changes, 1 on errors.")
@click.option("--graph", is_flag=True,
              help="Print the whole stack's dependency graph in DOT (Graphviz), marked by the plan, instead of the "
                   "plan.")
def plan(paths: tuple[str, ...], target: _Target, output_format: str, no_color: bool, diff: DiffStyle,
         no_delete: bool, allow_delete_all: bool, targets: tuple[str, ...], out_file: str | None,
         detailed_exitcode: bool, graph: bool) -> None:
    """Show what apply would change: + create, > adopt, ~ update, - delete.

    \b
    Example:
      assistants-sync plan specs --detailed-exitcode   # 0 nothing to do, 2 changes
      assistants-sync plan --env production --format markdown >> "$GITHUB_STEP_SUMMARY"
      assistants-sync plan specs --format json --out plan.json
      assistants-sync plan specs --full-diff      # long text diffs whole, not cut
      assistants-sync plan specs --target support-bot    # only this key
      assistants-sync plan specs --graph | dot -Tsvg > stack.svg
    """
    from .planning.reconcile import graph_from_manifests, plan_from_manifests

    options = dict(allow_delete=not no_delete, allow_delete_all=allow_delete_all, allow_no_manifests=allow_delete_all,
                   targets=targets, parallelism=target.settings.parallelism, **target.manifest_options)
    with target.client() as client:
        if graph:
            result, dependencies = graph_from_manifests(target.paths(paths), client, target.stack, **options)
        else:
            result = plan_from_manifests(target.paths(paths), client, target.stack, **options)
    if graph:
        from .render.graph import render_dot, stack_graph

        click.echo(render_dot(stack_graph(result, dependencies), result.stack), nl=False)
    else:
        _show(result, output_format, no_color, diff=diff)
    if out_file:
        _save(result, out_file)
        click.echo(f"Saved the plan to {out_file}; apply exactly it with: assistants-sync apply --plan {out_file}",
                   err=output_format != "text")
    if detailed_exitcode and not result.is_empty:
        sys.exit(EXIT_CHANGES)


@cli.command()
@_paths_argument
@_target_options
@_output_options
@_diff_options
@_targets_option
def drift(paths: tuple[str, ...], target: _Target, output_format: str, no_color: bool, diff: DiffStyle,
          targets: tuple[str, ...]) -> None:
    """Report what differs from the manifests outside assistants-sync, for cron jobs that page someone.

    Changed, missing, tagged-by-hand and duplicated objects are drift; updates
    explained by edited manifests and deletes explained by removed ones are not.
    The delete guards never fail a drift report.

    \b
    Example:
      assistants-sync drift specs || [ $? -ne 2 ] || notify-on-call
    Exit 0 no drift, 2 drift, 1 error.
    """
    from .planning.reconcile import drift_from_manifests

    with target.client() as client:
        result = drift_from_manifests(target.paths(paths), client, target.stack, targets=targets,
                                      parallelism=target.settings.parallelism, **target.manifest_options)
    _show(result, output_format, no_color, view="drift", diff=diff)
    if not result.is_empty:
        sys.exit(EXIT_CHANGES)


@cli.command()
@_target_options
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the manifests into.")
@click.option("--unmanaged", is_flag=True,
              help="Export objects without any ownership tag, with `adopt:` so apply takes them over.")
@click.option("--force", is_flag=True, help="Overwrite files that already exist in --out (default: refuse).")
@click.option("--kind", "only_kinds", multiple=True, metavar="KIND",
              help="Export objects of this kind only, e.g. agent (repeatable; default: every kind).")
@click.option("--strict", is_flag=True,
              help="Exit 1 when a file a manifest names could not be written (its content is not given back).")
def export(target: _Target, out_dir: Path, unmanaged: bool, force: bool, only_kinds: tuple[str, ...],
           strict: bool) -> None:
    """Write one manifest per remote object of the stack (or per unmanaged one), with the files it names.

    \b
    Example:
      assistants-sync export --out specs/imported
      assistants-sync export --unmanaged --kind vector_store --out specs/imported
      assistants-sync plan specs/imported     # no content change
    Each path a manifest names is relative to it: instructions files, and the documents
    of vector stores and code_interpreter files, downloaded where the endpoint gives
    their content back (checked against their sha256). Each one it does not give back
    is named in a warning; exit 0, or 1 with --strict.
    """
    from .render.export import export_manifests
    from .actual.remote import fetch_actual

    from .kinds import kind_named, kinds

    unknown = [k for k in only_kinds if kind_named(k) is None]
    if unknown:
        raise ConfigError(f"--kind {unknown[0]}: unknown kind; the kinds are {', '.join(k.name for k in kinds())}")
    with target.client() as client:
        actual = fetch_actual(client, target.stack, unowned_read=None if unmanaged else ())
        # the redactor knows every secret of the run: no file holds one, nor its mask
        written = export_manifests(actual, out_dir, unmanaged=unmanaged, force=force,
                                   only_kinds=frozenset(only_kinds) or None, redactor=client.redactor, api=client)
    for item in written:
        click.echo(f"  {item.path}  ({item.object_id})")
    for item in written:
        if item.withheld_warning:
            click.echo(f"Warning: {item.withheld_warning}", err=True)
    missing = [m for item in written for m in item.missing]
    for absent in missing:
        click.echo(f"Warning: {absent.warning}", err=True)
    kind = "unmanaged" if unmanaged else f'stack "{target.stack}"'
    from .kinds import DEFAULT_KIND, counted

    downloaded = sum(len(item.downloaded) for item in written)
    files = f", with {downloaded} downloaded file{'s' if downloaded != 1 else ''}" if downloaded else ""
    click.echo(f"Exported {counted({w.kind for w in written} or {DEFAULT_KIND}, len(written))} ({kind}) "
               f"to {out_dir}{files}.")
    if missing and strict:
        click.echo(f"Error: {len(missing)} file{'s' if len(missing) != 1 else ''} the manifests name could not be "
                   "written (--strict)", err=True)
        sys.exit(EXIT_ERROR)


@cli.command()
@_paths_argument
@_target_options
@_delete_options
@_targets_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False, path_type=str),
              help="Apply exactly this saved plan (from `plan --out`); it is the approval.")
@click.option("--parallelism", type=click.IntRange(1, 256), default=None, envvar="ASSISTANTS_SYNC_PARALLELISM",
              help=f"Changes applied at once, and kinds listed at once before. [env: ASSISTANTS_SYNC_PARALLELISM; "
                   f"default: {DEFAULT_PARALLELISM}]")
@click.option("--no-color", is_flag=True, help="No ANSI colours (also when NO_COLOR is set).")
@_diff_options
@click.option("--lock-timeout", type=click.FloatRange(0, 86400), default=0.0, metavar="SECONDS",
              help="Wait up to SECONDS for another apply of the stack to release its lock. [default: 0, fail at once]")
@click.option("--lock-lease", type=float, default=None, metavar="SECONDS",
              help="Renew this apply's lock every third of SECONDS; a waiting apply takes over a lock left "
                   f"unrenewed for longer (a killed run's). [default: {DEFAULT_LOCK_LEASE:g}; also lock_lease in the "
                   "project file]")
@click.option("--no-wait", is_flag=True,
              help="Do not wait for vector stores to process the files attached to them (nor report failures).")
def apply(paths: tuple[str, ...], target: _Target, no_delete: bool, allow_delete_all: bool, targets: tuple[str, ...],
          auto_approve: bool, plan_file: str | None, parallelism: int, no_color: bool, diff: DiffStyle,
          lock_timeout: float, lock_lease: float, no_wait: bool) -> None:
    """Make the endpoint match the manifests (or carry out a saved plan).

    \b
    Example:
      assistants-sync apply specs                 # shows the plan, asks 'yes'
      assistants-sync apply specs --auto-approve  # in CI
      assistants-sync apply --plan plan.json      # exactly the reviewed plan
    Holds the stack's lock from planning to the last change. Exit 0 when every
    change succeeded, 1 when any failed (the others are still tried) or the stack is
    locked, 130 when interrupted (changes in flight finish; none is left half-done).
    """
    from .applying.apply_lock import model_for_manifests, model_for_plan
    from .desired.manifest import load_manifests, require_manifests
    from .planning.reconcile import NO_MANIFESTS_HINT, plan_from_desired
    from .planning.saved import check_saved_plan, load_plan

    from .applying.lock import check_lease

    check_lease(lock_lease)  # before anything is sent
    if plan_file and paths:
        raise ConfigError("give either manifest PATHs or --plan FILE, not both: a saved plan already holds its changes")
    if plan_file and targets:
        raise ConfigError("give either --target or --plan FILE, not both: a saved plan already holds its targets")
    with target.client() as client:
        with _interrupted_before_any_change():
            if plan_file:
                planned = load_plan(plan_file)
                # a refused plan neither locks nor waits
                actual = check_saved_plan(planned, client, target.stack, allow_delete_all=allow_delete_all,
                                          parallelism=parallelism)
                if planned.is_empty:
                    _show(planned, "text", no_color, diff=diff)
                    return
                model = model_for_plan(planned, actual, os.environ)
            else:
                # Invalid (or no) manifests fail before anything is sent, the lock included.
                desired = load_manifests(target.paths(paths), **target.manifest_options)
                if not allow_delete_all:
                    require_manifests(desired, target.paths(paths), hint=NO_MANIFESTS_HINT)
                model = model_for_manifests(desired, os.environ)
        with _stack_lock(client, target.stack, model, lock_timeout, lock_lease):
            with _interrupted_before_any_change():
                if plan_file:
                    # again, under the lock: it may have changed
                    check_saved_plan(planned, client, target.stack, allow_delete_all=allow_delete_all,
                                     parallelism=parallelism)
                else:
                    # the manifests loaded before the lock: loading them again would only cost time
                    planned = plan_from_desired(desired, target.paths(paths), client, target.stack,
                                                allow_delete=not no_delete, allow_delete_all=allow_delete_all,
                                                allow_no_manifests=True, targets=targets, parallelism=parallelism)
            _show(planned, "text", no_color, diff=diff)
            if planned.is_empty:
                return
            if not (plan_file or auto_approve):
                _confirm()
            _apply_and_report(planned, client, parallelism, wait=not no_wait)


@contextlib.contextmanager
def _stack_lock(client: AssistantsClient, stack: str, model: str, timeout: float, lease: float) -> Iterator[None]:
    """Hold the stack's lock, leased, for the block (each write of `client` checks it is still held); Ctrl-C while
    waiting for it exits 130."""
    from .applying.apply_lock import EndpointLockObjects, who_am_i
    from .applying.lock import leased

    def waiting(holder: LockInfo, seconds_left: float) -> None:
        click.echo(f'Stack "{stack}" is locked by {holder.describe()}; waiting up to {math.ceil(seconds_left)}s '
                   "for it to be released...", err=True)

    def taking_over(holder: LockInfo, unchanged: float) -> None:
        click.echo(f"The lock of {holder.who} was not renewed for {math.floor(unchanged)} s (its lease is "
                   f"{holder.lease:g} s); taking it over.", err=True)

    # A client of its own: Ctrl-C during the apply stops the apply's client, and the lock must still be released
    # (and renewed meanwhile, whatever the apply's requests wait for).
    with client.sibling() as lock_client, \
            contextlib.ExitStack() as held:
        try:
            renewing = held.enter_context(leased(EndpointLockObjects(lock_client, model), stack, who=who_am_i(),
                                                 lease=lease, timeout=timeout, on_wait=waiting,
                                                 on_takeover=taking_over,
                                                 warn=lambda message: click.echo(f"Warning: {message}", err=True)))
        except KeyboardInterrupt:
            click.echo("Interrupted while waiting for the lock; nothing was changed.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        client.before_write = renewing.check
        try:
            yield
        finally:
            client.before_write = None


@cli.command()
@_paths_argument
@_project_options
@click.option("--to", "to_kind", required=True, type=click.Choice(["agent", "foundry_agent"]),
              help="The kind to convert to: agent (OpenAI's Agents API) or foundry_agent (Microsoft Foundry's agents).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the converted manifests into.")
@click.option("--force", is_flag=True, help="Overwrite files that already exist in --out (default: refuse).")
def convert(paths: tuple[str, ...], target: _Target, to_kind: str, out_dir: Path, force: bool) -> None:
    """Write agent manifests from assistant manifests, listing what each one loses.

    \b
    Example:
      assistants-sync convert --to agent specs --out agents
      assistants-sync convert --to foundry_agent specs --out foundry
      assistants-sync plan agents      # review, then apply
    The manifests are read as plan reads them. An agent takes other defaults than an
    assistant, so the project file's defaults (of --env NAME) are written into each agent
    manifest; ${NAME} variables are written as they are. Nothing is sent to any endpoint.
    """
    from .config import defaults_as_written
    from .convert import convert_to_agents

    conversion = convert_to_agents(target.paths(paths), out_dir, force=force,
                                   written_defaults=defaults_as_written(target.settings), to_kind=to_kind,
                                   **target.manifest_options)
    converted = conversion.converted
    for item in converted:
        click.echo(f"  {item.path}  (from {item.source})")
        if item.from_defaults:
            click.echo(f"      from the project file's defaults: {', '.join(item.from_defaults)}")
        for note in item.notes:
            click.echo(f"      changed: {note}")
        for loss in item.losses:
            click.echo(f"      lost: {loss}")
    lossy = sum(1 for c in converted if c.losses)
    target_api = "Foundry's agents" if to_kind == "foundry_agent" else "the Agents API"
    click.echo(f"Converted {len(converted)} assistant manifest{'s' if len(converted) != 1 else ''} to "
               f"{'Foundry agents' if to_kind == 'foundry_agent' else 'agents'} in {out_dir}; {lossy} "
               f"lose{'s' if lossy == 1 else ''} settings {target_api} do{'es' if to_kind == 'agent' else ''} not have.")
    if conversion.others:
        shown = ", ".join(conversion.others[:5]) + (f" and {len(conversion.others) - 5} more" if len(
            conversion.others) > 5 else "")
        click.echo(f"Warning: not converted (not assistants): {shown}. Plan them together with {out_dir} (or copy "
                   "them there, with the files they name): planned without them, their objects would be deleted.",
                   err=True)


@cli.command("force-unlock")
@click.argument("lock_id")
@_target_options
@click.option("--force", is_flag=True, help="Release without asking for confirmation.")
def force_unlock(lock_id: str, target: _Target, force: bool) -> None:
    """Release a stack's lock left behind by a killed apply.

    \b
    Example:
      assistants-sync force-unlock 5c0e9b6a0d3e4f6c9a7b1e2d3f4a5b6c --stack production
    LOCK_ID is in the message of the apply that found the stack locked. Release
    only the lock of a run that is no longer running: two applies at once can
    create duplicates.
    """
    from .applying.apply_lock import EndpointLockObjects
    from .applying.lock import force_unlock as release_lock

    def confirm(lock: LockInfo) -> None:
        if force:
            return
        click.echo(f'Stack "{target.stack}" is locked by {lock.describe()}.')
        if not _stdin_is_terminal():
            raise ConfigError("force-unlock needs confirmation and there is no terminal to ask: pass --force; "
                              "nothing was changed")
        answer = click.prompt("Release it? Only 'yes' will be accepted", default="", show_default=False)
        if answer.strip() != "yes":
            raise ConfigError("force-unlock cancelled; nothing was changed")

    with target.client() as client:
        released = release_lock(EndpointLockObjects(client), target.stack, lock_id, confirm=confirm)
    click.echo(f'Released the lock of stack "{target.stack}" held by {released.describe()}.')


@cli.command()
@_paths_argument
@_project_options
@click.option("--format", "output_format", type=click.Choice(["responses"]), required=True,
              help="responses: the Responses API request parameters that reproduce each assistant.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write one KEY.json per manifest here (default: one JSON document on stdout).")
@click.option("--force", is_flag=True, help="Overwrite files that already exist in --out (default: refuse).")
def render(paths: tuple[str, ...], target: _Target, output_format: str, out_dir: Path | None, force: bool) -> None:
    """Translate manifests for leaving the Assistants API (no API request is made).

    \b
    Example:
      assistants-sync render --format responses specs --out responses/
    Each file holds `request` (model, instructions, tools, text.format, reasoning...)
    and `notes` for anything with no Responses equivalent. A request holding the API
    key or a header value is never written, nor is a file that exists (unless --force).
    """
    import json

    from .desired.manifest import load_manifests, require_manifests
    from .render.responses import not_rendered, responses_requests, write_responses

    redactor = _current_redactor()
    for value in target.settings.headers.values():  # the project file's headers are secrets too
        redactor.add(value)
    desired = load_manifests(target.paths(paths), **target.manifest_options)
    require_manifests(desired, target.paths(paths))
    for line in not_rendered(desired):
        click.echo(f"Warning: not rendered: {line}", err=True)
    if out_dir is None:
        click.echo(json.dumps(responses_requests(desired), indent=2, ensure_ascii=False))
        return
    written = write_responses(desired, out_dir, force=force, redactor=redactor)
    click.echo(f"Wrote {len(written)} Responses request file{'s' if len(written) != 1 else ''} to {out_dir}.")


@cli.command()
@click.option("--kind", type=click.Choice(["manifest", "config"]), default="manifest", show_default=True,
              help="manifest: one manifest document (any kind); config: assistants-sync.yaml.")
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


@contextlib.contextmanager
def _interrupted_before_any_change() -> Iterator[None]:
    """Ctrl-C while apply lists and plans: nothing is written yet, so say so and exit 130."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo("\nInterrupted before any change was made; nothing was changed.", err=True)
        sys.exit(EXIT_INTERRUPTED)


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


def _apply_and_report(planned: Plan, client: AssistantsClient, parallelism: int, *, wait: bool = True) -> None:
    from .applying.apply import apply_plan
    from .applying.progress import ApplyProgress
    from .applying.report import render_apply_summary

    click.echo("")
    retried_before = client.stats.retries
    terminal = _stdout_is_terminal()
    with ApplyProgress(len(planned.changes), sys.stdout, terminal=terminal,
                       rate_limit_wait=client.limiter.remaining) as progress:
        result = apply_plan(planned, client, on_outcome=progress, parallelism=parallelism, wait=wait,
                            on_progress=progress.waiting)
    click.echo("\n" + render_apply_summary(result, retries=client.stats.retries - retried_before,
                                            partial=bool(planned.targets)), nl=False)
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
              help="Keep the assistants (only they) in this JSON file across restarts (default: memory only).")
@click.option("--load", "load_file", type=click.Path(exists=True, dir_okay=False, path_type=str),
              help="Start with the assistants in this JSON file (only they); keep changes in memory only.")
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
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a bearer token for the Foundry paths (valid one hour) to FILE, for AZURE_AI_TOKEN.")
@click.option("--downloads", is_flag=True,
              help="Give back the content of uploads for assistants, as self-hosted servers may (OpenAI does not).")
def emulator(required: tuple[str, ...], host: str, port: int, state_file: str | None, load_file: str | None,
             api_key_env: str | None, latency_ms: int,
             error_rate: float, drop_create_rate: float, malformed_rate: float, seed: int,
             token_file: Path | None, downloads: bool) -> None:
    """Serve a local emulator of the APIs the tool manages (for tests and trials).

    \b
    Example:
      assistants-sync emulator --port 8080 --state emulator.json &
      OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_API_KEY=anything assistants-sync plan specs
      assistants-sync emulator --error-rate 0.25 --latency-ms 20   # a flaky, slow endpoint
    Serves the OpenAI shape at /v1, Azure's at /openai (?api-version=, api-key) and
    Foundry's at /api/projects/NAME (a token from --token-file): classic agents at
    /assistants and agents at /agents (?api-version=v1), files and vector stores at
    /openai/v1 (no api-version):
      assistants-sync emulator --token-file token.txt &
      AZURE_AI_TOKEN=$(cat token.txt) assistants-sync plan --provider foundry \\
        --base-url http://127.0.0.1:8080/api/projects/demo specs
    """
    from .session import emulator_server

    server = emulator_server(state_file=state_file, load_file=load_file, host=host, port=port,
                             api_key_env=api_key_env, required_headers=dict(_header(h) for h in required),
                             token_file=token_file, downloads=downloads, latency=latency_ms / 1000, error_rate=error_rate,
                             drop_create_rate=drop_create_rate, malformed_rate=malformed_rate, seed=seed)
    click.echo(f"Emulator serving the Assistants API at {server.base_url} (Ctrl-C to stop)")
    click.echo(f"Foundry project endpoints: {server.project_url('NAME')}")
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


@cli.command()
@_paths_argument
@_project_options
@click.option("--stack", default=None,
              help=f"Stack to use on the emulator. [env: ASSISTANTS_SYNC_STACK; default: {DEFAULT_STACK}]")
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=str),
              help="Emulator state file, so a later demo starts from this one's result.")
def demo(paths: tuple[str, ...], target: _Target, state_file: str | None) -> None:
    """Plan and apply manifests against a throwaway local emulator: no key, no network.

    \b
    Example:
      assistants-sync demo specs
      assistants-sync demo --env production   # the project file's paths, defaults, stack
    Runs plan, apply and a second plan, which must report no changes. The project file
    is read as plan reads it; only the endpoint is replaced by the emulator.
    """
    from .planning.reconcile import plan_from_manifests
    from .session import demo_endpoint

    stack = _checked_stack(target.stack)
    paths = target.paths(paths)
    with demo_endpoint(paths, target.manifest_options, state_file) as (base_url, client):
        click.echo(f"Started an emulator at {base_url}\n")
        click.echo("$ assistants-sync plan")
        planned = plan_from_manifests(paths, client, stack, **target.manifest_options)
        _show(planned, "text", no_color=False)
        if not planned.is_empty:
            click.echo("\n$ assistants-sync apply --auto-approve", nl=False)
            _apply_and_report(planned, client, target.settings.parallelism)
        click.echo("\n$ assistants-sync plan   # again: the endpoint now matches the manifests")
        again = plan_from_manifests(paths, client, stack, **target.manifest_options)
        _show(again, "text", no_color=False)
    if not again.is_empty:
        raise SyncError("the second plan is not empty: this is a bug in assistants-sync, please report it")


def main() -> None:
    """Console entry point."""
    cli()
