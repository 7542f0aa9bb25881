"""Shared fixtures: a real emulator on loopback, the CLI, and the official spec."""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml
from click.testing import CliRunner, Result

from assistants_sync.actual.retry import RetryPolicy
from assistants_sync.cli import cli
from assistants_sync.emulator import EmulatorServer, running_emulator

ROOT = Path(__file__).resolve().parents[1]
SHARED_SPEC = ROOT.parent / "shared" / "openapi" / "assistants-openapi.yaml"
VENDORED_SPEC = ROOT / "assistants_sync" / "emulator" / "assistants-openapi.yaml"
SHARED_KNOWLEDGE_SPEC = SHARED_SPEC.with_name("knowledge-openapi.yaml")
VENDORED_KNOWLEDGE_SPEC = VENDORED_SPEC.with_name("knowledge-openapi.yaml")
API_KEY = "sk-test-3f9a1c0b7e"
# The tests talk plain HTTP on loopback, yet every httpx client builds a TLS context, loading the whole CA
# bundle (~30 ms): the tests' own clients share this one (verify=LOOPBACK_TLS).
LOOPBACK_TLS: ssl.SSLContext = httpx.create_ssl_context()
# The collection of every kind: a plan lists each once (paginated).
KIND_PATHS = ("assistants", "agents", "vector_stores", "files")
# Where Foundry serves each collection it serves, under the project: (path prefix, api-version sent).
# Files and vector stores are on its OpenAI-compatible surface, without an api-version.
FOUNDRY_PATHS = (("assistants", "v1"), ("agents", "v1"), ("openai/v1/vector_stores", None),
                 ("openai/v1/files", None))


def sent_where_foundry_serves(request: Any, project: str, api_version: str = "v1") -> bool:
    """Whether a recorded request went to a Foundry project's path for its collection, with the
    api-version that path takes (none for the OpenAI-compatible surface)."""
    for prefix, version in FOUNDRY_PATHS:
        if request.path.startswith(f"/api/projects/{project}/{prefix}"):
            if prefix == "agents":  # Foundry's agents are GA at v1 only, whatever the classic paths take
                return request.query.get("api-version") == "v1"
            return request.query.get("api-version") == (version and api_version)
    return False


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """A fresh emulator on a free loopback port, accepting only API_KEY."""
    with running_emulator(api_key=API_KEY) as server:
        yield server


def point_cli_at(monkeypatch: pytest.MonkeyPatch, base_url: str | None, key: str = API_KEY) -> None:
    """The CLI's environment: `key`, `base_url` (unless None) and no inherited stack, org or colour."""
    for name in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "ASSISTANTS_SYNC_STACK", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    if base_url is not None:
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)


def one_bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str) -> Path:
    """specs/ with one assistant manifest, `tmp_path` as the working directory, `key` as the API key."""
    monkeypatch.chdir(tmp_path)
    point_cli_at(monkeypatch, None, key)
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Bot\ninstructions: Be brief.\n")
    return tmp_path / "specs"


@pytest.fixture
def env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    """Environment pointing the CLI at the emulator, with nothing inherited."""
    point_cli_at(monkeypatch, emulator.base_url)
    return emulator


@pytest.fixture
def sdk(emulator: EmulatorServer) -> openai.OpenAI:
    """The official openai client, talking to the emulator: 'someone else' editing assistants."""
    return official_sdk(emulator.base_url)


def official_sdk(base_url: str, api_key: str = API_KEY) -> openai.OpenAI:
    """The official openai client with its own defaults (no retries), sharing the tests' TLS context."""
    return openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0,
                         http_client=openai.DefaultHttpxClient(verify=LOOPBACK_TLS))


def run(*args: str, input: str | None = None) -> Result:
    """Invoke the CLI in-process."""
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def interrupted_cli(args: list[str], env: Mapping[str, str], asked: threading.Event) -> tuple[int, str, str]:
    """The CLI run in a process of its own with `env` added, given Ctrl-C once `asked` is set (by the server, at
    the request it holds unanswered); its exit code, stdout and stderr."""
    process = subprocess.Popen([sys.executable, "-m", "assistants_sync", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
                               cwd=ROOT)
    try:
        if not asked.wait(30):
            process.kill()
            raise AssertionError(f"the command never sent the request held for it: {process.communicate()}")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, stdout, stderr


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def plan_json(*args: str) -> dict[str, Any]:
    result = run("plan", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def example_specs(tmp_path: Path) -> Path:
    """A copy of the repository's example specs/ that a test may edit."""
    target = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", target)
    return target


@pytest.fixture(scope="session")
def openapi() -> dict[str, Any]:
    """The official spec: the shared wire truth, or the vendored copy when shared/ is absent."""
    path = SHARED_SPEC if SHARED_SPEC.exists() else VENDORED_SPEC
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """No inherited settings or variables used by the tests, and a working directory without a project file."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_API_VERSION",
                 "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN", "ASSISTANTS_SYNC_STACK",
                 "ASSISTANTS_SYNC_PROVIDER", "ASSISTANTS_SYNC_PARALLELISM", "NO_COLOR", "CUSTOMER", "REGION", "TEAM",
                 "MODEL", "KEY_SUFFIX", "GATEWAY_KEY", "GATEWAY_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield monkeypatch


FAST = RetryPolicy(max_attempts=10, base_delay=0.005, max_delay=0.05)  # retries that take milliseconds


def manifests(root: Path, count: int, **fields: str) -> Path:
    """`count` manifests bot-000, bot-001, ... under `root`, with the given extra fields."""
    for i in range(count):
        extra = "".join(f"{k}: {v}\n" for k, v in fields.items())
        write(root / f"bot-{i:03d}.yaml", f"key: bot-{i:03d}\nmodel: gpt-4o\n{extra}")
    return root


def tags(emulator: EmulatorServer) -> list[str]:
    """The ownership tag of every assistant the emulator holds, sorted page by page."""
    return sorted(a["metadata"]["assistants-sync"] for a in emulator.store.list(limit=100, order="asc")["data"]) + sorted(
        a["metadata"]["assistants-sync"] for a in _rest(emulator))


def _rest(emulator: EmulatorServer) -> list[dict[str, Any]]:
    page = emulator.store.list(limit=100, order="asc")
    rest: list[dict[str, Any]] = []
    while page["has_more"]:
        page = emulator.store.list(limit=100, order="asc", after=page["last_id"])
        rest += page["data"]
    return rest
