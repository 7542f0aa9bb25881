"""Every error assistants-sync raises on purpose.

    SyncError                  root: the CLI prints the message and exits 1
    ├── ManifestError          manifests are invalid (carries every problem found)
    │   └── NoManifestsError   the paths hold no manifest at all
    ├── UnreadableFile         a file cannot be read as text (reported as a problem of the file naming it)
    ├── VariableError          a ${...} cannot be substituted (reported as a problem, with its line)
    ├── ConfigError            settings are missing or malformed (e.g. no API key)
    │   └── ProjectFileError   the project file is invalid (carries every problem found)
    ├── RemoteError            the endpoint could not be used
    │   ├── ApiError           the endpoint answered with an HTTP error
    │   ├── BadResponseError   the endpoint answered something that is not the API
    │   ├── UnservedKindError  manifests of a kind the endpoint does not serve
    │   ├── ContentUnavailable an object's content cannot be read back (OpenAI keeps uploads for assistants)
    │   └── AmbiguousRequestError  a create may or may not have happened (answer lost)
    ├── PlanError              a plan cannot be made or a saved plan cannot be used
    └── LockError              the stack's lock cannot be taken or released
        ├── LockHeldError      another run holds the lock (names it)
        └── LockLostError      this run's lock was taken over (it looked dead): it stops before writing

Anything else escaping the library is a bug and is allowed to traceback.
Messages never contain the API key or header values: they are built from
statuses, URLs without credentials and the server's own error text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class SyncError(Exception):
    """Root of all deliberate failures."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place in one manifest file."""

    file: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        location = f"{self.file}:{self.line}" if self.line else self.file
        return f"{location}: {self.where}: {self.message}" if self.where else f"{location}: {self.message}"


def _problem_list(problems: list[Problem], where: str) -> str:
    count = len(problems)
    header = f"{count} problem{'s' if count != 1 else ''} in {where}:"
    return "\n".join([header, *(f"  {p}" for p in problems)])


class UnreadableFile(SyncError):
    """A file that cannot be a manifest, a project file or a referenced text; the message says why."""


class VariableError(SyncError):
    """A ${...} that cannot be substituted; carries the line it is on."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else None


class ManifestError(SyncError):
    """The manifests are invalid; `problems` lists every one found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(_problem_list(problems, "the manifests"))


class NoManifestsError(ManifestError):
    """The paths hold no manifest at all: an empty or mistyped path, never an empty desired state."""

    def __init__(self, paths: list[str], hint: str = "", *, nouns: str = "") -> None:
        """`nouns` names the kinds of manifest looked for ("assistant or agent")."""
        where = ", ".join(paths) or "(no path)"
        missing = f"no {nouns} manifests" if nouns else "no manifests"
        message = f"{missing} (*.yaml or *.yml files) in {where}"
        self.problems = [Problem(where, None, "", missing)]
        SyncError.__init__(self, f"{message}; {hint}" if hint else message)


class ConfigError(SyncError):
    """Settings are missing or malformed."""


class ProjectFileError(ConfigError):
    """The project file is invalid; `problems` lists every one found, in file order."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(_problem_list(problems, f"the project file {path}"))


class RemoteError(SyncError):
    """The endpoint could not be reached or used."""


class ApiError(RemoteError):
    """The endpoint answered with an HTTP error status."""

    def __init__(self, status: int, api_message: str, *, operation: str, hint: str = "", sent: bool = True) -> None:
        self.status = status
        self.api_message = api_message
        self.operation = operation
        self.hint = hint
        self.sent = sent  # False: refused before sending (the endpoint serves no such collection)
        text = f"{operation} failed: HTTP {status}: {api_message}"
        super().__init__(f"{text}\n  {hint}" if hint else text)


class BadResponseError(RemoteError):
    """The endpoint answered with something that is not the Assistants API."""


class AmbiguousRequestError(RemoteError):
    """A non-idempotent request (a create) failed in a way that leaves its effect unknown.

    Raised instead of retrying blindly: the caller must look for the result first.
    """


class UnservedKindError(RemoteError):
    """Manifests of a kind the endpoint does not serve (its list path answered 404)."""


class ContentUnavailable(RemoteError):
    """The endpoint does not give an object's content back (the message is the server's reason)."""


class PlanError(SyncError):
    """A plan cannot be computed or a saved plan cannot be applied."""


class LockError(SyncError):
    """The stack's lock cannot be taken or released."""


class LockHolder(Protocol):
    """Who holds a stack's lock (applying.lock.LockInfo), as far as a message needs it."""

    @property
    def stack(self) -> str: ...
    @property
    def lock_id(self) -> str: ...
    def describe(self) -> str: ...


class LockHeldError(LockError):
    """Another run holds the stack's lock; `holder` says who and since when."""

    def __init__(self, holder: LockHolder, *, waited: float) -> None:
        self.holder = holder
        waited_text = f"; gave up after waiting {waited:g}s" if waited else ""
        advice = "" if waited else "Wait for that apply to finish (or pass --lock-timeout SECONDS). "
        super().__init__(
            f'stack "{holder.stack}" is locked by {holder.describe()}{waited_text}; nothing was changed.\n'
            f"  {advice}If it was killed, release its lock with: "
            f"assistants-sync force-unlock {holder.lock_id} --stack {holder.stack}"
        )


class LockLostError(LockError):
    """This run's lock was taken over by another run (its lease ran out): it stops before its next write."""
