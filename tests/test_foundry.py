"""Azure AI Foundry through the CLI, against the emulator's Foundry shape: sign-in, renewal, errors, secrecy."""

from __future__ import annotations

import builtins
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistants_sync.actual import auth
from assistants_sync.emulator import EmulatorServer, ManualClock, TokenAuthority, running_emulator

from .conftest import LOOPBACK_TLS, run, sent_where_foundry_serves, write
from .docs_outputs import check_shown

ENV_NAMES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_VERSION", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID",
             "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN", "AZURE_AI_PROJECT_ENDPOINT",
             "AZURE_AI_TOKEN", "AZURE_TOKEN_CREDENTIALS", "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
             "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST", "IDENTITY_ENDPOINT", "MSI_ENDPOINT",
             "ASSISTANTS_SYNC_STACK", "ASSISTANTS_SYNC_PROVIDER", "ASSISTANTS_SYNC_PARALLELISM", "NO_COLOR")


class Foundry:
    """An emulator serving the Foundry shape, its token authority and fake clock, and the CLI's environment."""

    def __init__(self, server: EmulatorServer, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
        self.server = server
        self.clock = clock
        self.tokens = server.tokens
        self._monkeypatch = monkeypatch
        monkeypatch.setenv("AZURE_AI_PROJECT_ENDPOINT", server.project_url("sales"))
        monkeypatch.setattr(auth, "wall_clock", clock)  # the client measures expiry by the emulator's time

    def sign_in_with(self, **options: Any) -> Any:
        """Make DefaultAzureCredential's place be taken by a test credential of the emulator's authority."""
        credential = self.tokens.credential(**options)
        self._monkeypatch.setattr(auth, "default_credential", lambda: credential)
        return credential


@pytest.fixture
def foundry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Foundry]:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    clock = ManualClock()
    with running_emulator(tokens=TokenAuthority(clock=clock, seconds_per_request=60)) as server:
        yield Foundry(server, clock, monkeypatch)


def bots(root: Path, count: int) -> Path:
    for index in range(count):
        write(root / "specs" / f"bot-{index:02d}.yaml", f"key: bot-{index:02d}\nmodel: gpt-4o-deployment\n"
                                                         f"instructions: Bot number {index}.\n")
    return root / "specs"


def test_plan_apply_plan_as_foundry_with_a_test_credential(foundry: Foundry, example_specs: Path) -> None:
    foundry.sign_in_with(lifetime=3600)
    first = run("plan", "--provider", "foundry", str(example_specs))
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith(f'Stack "default" at {foundry.server.project_url("sales")} api-version=v1\n')
    assert "Plan: 7 to create" in first.stdout
    applied = run("apply", "--provider", "foundry", "--auto-approve", str(example_specs))
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 7 created, 0 updated, 0 deleted." in applied.stdout
    again = run("plan", "--provider", "foundry", "--detailed-exitcode", str(example_specs))
    assert again.exit_code == 0, again.output
    for request in foundry.server.requests:
        assert sent_where_foundry_serves(request, "sales"), request
        assert request.headers["authorization"].startswith("Bearer ey")
        assert "api-key" not in request.headers


def test_the_project_file_chooses_foundry_and_the_api_version_can_be_overridden(foundry: Foundry,
                                                                                tmp_path: Path) -> None:
    foundry.sign_in_with()
    bots(tmp_path, 1)
    write(tmp_path / "assistants-sync.yaml", f"""
        provider: foundry
        base_url: {foundry.server.project_url("from-file")}
        api_version: 2025-05-15-preview
        """)
    os.environ.pop("AZURE_AI_PROJECT_ENDPOINT")
    result = run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert all(sent_where_foundry_serves(r, "from-file", "2025-05-15-preview") for r in foundry.server.requests)


def test_tokens_are_renewed_before_they_expire_so_a_long_apply_finishes(foundry: Foundry, tmp_path: Path) -> None:
    # Each request moves the emulator's clock by a minute; a token lives 20 minutes, so the
    # 40 creates outlast several tokens. Renewing 5 minutes early means none is refused.
    credential = foundry.sign_in_with(lifetime=20 * 60)
    specs = bots(tmp_path, 40)
    result = run("apply", "--provider", "foundry", "--auto-approve", "--parallelism", "1", str(specs))
    assert result.exit_code == 0, result.output
    assert "Apply complete: 40 created" in result.stdout
    assert credential.calls >= 3
    assert foundry.tokens.refusals == []


def test_a_token_that_expires_mid_apply_gets_one_fresh_token_and_one_resend(foundry: Foundry,
                                                                           tmp_path: Path) -> None:
    # The credential claims its tokens live for days; the emulator expires them after 15
    # requests, so the client learns of it only from the 401s, in the middle of the apply.
    # One worker, so the requests (and the emulator's clock) advance in a fixed order.
    credential = foundry.sign_in_with(lifetime=15 * 60, reported_lifetime=5 * 86400)
    specs = bots(tmp_path, 40)
    applied = run("apply", "--provider", "foundry", "--auto-approve", "--parallelism", "1", str(specs))
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 40 created, 0 updated, 0 deleted." in applied.stdout
    assert len(foundry.server.store) == 40  # a resent create is never a duplicate: the 401 created nothing
    # A token lasts 15 requests (refused ones included); the run makes 47 (the lock's create,
    # listing and delete, the listings to plan from (assistants, Foundry's agents, vector stores and
    # files; OpenAI's agents are never asked for on Foundry), 40 creates): three tokens expire on the way.
    assert foundry.tokens.refusals == ["expired"] * 3
    assert credential.calls == 4
    assert len(foundry.server.requests) == 50  # 47, and each refused one sent again once
    again = run("plan", "--provider", "foundry", "--detailed-exitcode", str(specs))
    assert again.exit_code == 0, again.output


def test_a_persistent_401_is_resent_once_and_then_reported(foundry: Foundry, example_specs: Path) -> None:
    # Tokens for the wrong audience: every fresh one is refused too. One resend, no loop.
    credential = foundry.tokens.credential()
    credential.get_token = lambda *scopes, **kw: foundry.tokens.mint(audience="https://management.azure.com")  # type: ignore[method-assign]
    foundry._monkeypatch.setattr(auth, "default_credential", lambda: credential)
    result = run("plan", "--provider", "foundry", str(example_specs))
    assert result.exit_code == 1
    assert len(foundry.server.requests) == 2
    assert "listing assistants failed: HTTP 401: Access token is missing, invalid, audience is incorrect" in result.stderr
    assert "(a renewable one also after one fresh token): check that it is for https://ai.azure.com/.default" \
        in result.stderr


@pytest.mark.parametrize("status", [401, 403], ids=["foundry-401", "gateway-403"])
def test_an_identity_without_the_role_is_told_which_role_to_ask_for(foundry: Foundry, example_specs: Path,
                                                                    status: int) -> None:
    foundry.sign_in_with(principal="ci-bot")
    foundry.tokens.denied.add("ci-bot")
    foundry.tokens.denied_status = status
    result = run("plan", "--provider", "foundry", str(example_specs))
    assert result.exit_code == 1
    assert (f"HTTP {status}: The principal `ci-bot` lacks the required data action "
            "`Microsoft.CognitiveServices/accounts/AIServices/agents/read`") in result.stderr
    assert 'ask an Owner to grant it "Azure AI User" on the project' in result.stderr
    assert len(foundry.server.requests) == 1  # no fresh token can grant a role: not resent


def test_without_the_azure_extra_the_error_gives_the_pip_command(foundry: Foundry, example_specs: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_azure(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "azure" or name.startswith("azure."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_azure)
    result = run("plan", "--provider", "foundry", str(example_specs))
    assert result.exit_code == 1
    assert ("Error: --provider foundry signs in with Microsoft Entra ID through the azure-identity package, "
            "which is not installed: run  pip install 'assistants-sync[azure]'") in result.stderr
    assert foundry.server.requests == []


@pytest.mark.parametrize(("endpoint", "why"), [
    pytest.param("https://contoso.openai.azure.com", "That is an Azure OpenAI resource endpoint", id="azure-openai"),
    pytest.param("https://contoso.services.ai.azure.com", "The project path /api/projects/PROJECT is missing",
                 id="no-project"),
    pytest.param("https://contoso.services.ai.azure.com/api/projects/sales/assistants", "Leave out /assistants",
                 id="with-assistants"),
    pytest.param("https://contoso.services.ai.azure.com/api/projects", "", id="no-project-name"),
    pytest.param("eastus.api.azureml.ms;1234;rg;proj", "hub-based project's connection string", id="conn-string"),
])
def test_an_endpoint_that_is_not_a_project_endpoint_is_refused_before_signing_in(
    foundry: Foundry, example_specs: Path, endpoint: str, why: str
) -> None:
    credential = foundry.sign_in_with()
    result = run("plan", "--provider", "foundry", "--base-url", endpoint, str(example_specs))
    assert result.exit_code == 1
    assert ("is not an Azure AI Foundry project endpoint; expected "
            "https://ACCOUNT.services.ai.azure.com/api/projects/PROJECT.") in result.stderr
    assert why in result.stderr
    assert credential.calls == 0 and foundry.server.requests == []


def test_a_project_endpoint_with_a_query_is_refused_before_signing_in(foundry: Foundry, example_specs: Path) -> None:
    credential = foundry.sign_in_with()
    result = run("plan", "--provider", "foundry", "--base-url",
                 "https://contoso.services.ai.azure.com/api/projects/sales?api-version=v1", str(example_specs))
    assert result.exit_code == 1
    assert "--base-url: the base URL https://contoso.services.ai.azure.com/api/projects/sales has a query" in result.stderr
    assert credential.calls == 0 and foundry.server.requests == []


def test_a_missing_project_endpoint_says_where_to_set_it(foundry: Foundry, example_specs: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_AI_PROJECT_ENDPOINT")
    result = run("plan", "--provider", "foundry", str(example_specs))
    assert result.exit_code == 1
    assert "--provider foundry needs the project endpoint: set AZURE_AI_PROJECT_ENDPOINT" in result.stderr


def test_a_pre_obtained_token_in_azure_ai_token_works_and_its_expiry_is_explained(
    foundry: Foundry, example_specs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "default_credential", lambda: pytest.fail("AZURE_AI_TOKEN must win"))
    token = foundry.tokens.mint(lifetime=3600)
    monkeypatch.setenv("AZURE_AI_TOKEN", token.token)
    applied = run("apply", "--provider", "foundry", "--auto-approve", str(example_specs))
    assert applied.exit_code == 0, applied.output
    foundry.clock.advance(3600)
    expired = run("plan", "--provider", "foundry", str(example_specs))
    assert expired.exit_code == 1
    assert "Error: AZURE_AI_TOKEN expired at 2030-03-17 " in expired.stderr
    assert "fetch a new one (az account get-access-token --scope https://ai.azure.com/.default)" in expired.stderr
    assert token.token not in expired.output


def test_no_token_appears_in_any_output_log_or_plan_file(foundry: Foundry, example_specs: Path,
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    foundry.sign_in_with(lifetime=3 * 60, reported_lifetime=86400)  # a token expires every third request
    # One listing at a time: with tokens this short, listings in flight at once could each outlive a fresh token,
    # and which request sees which token would be timing luck.
    monkeypatch.setenv("ASSISTANTS_SYNC_PARALLELISM", "1")
    outputs = [
        run("--verbose", "plan", "--provider", "foundry", "--out", "plan.json", str(example_specs)).output,
        run("--verbose", "apply", "--provider", "foundry", "--plan", "plan.json", "--parallelism", "1").output,
        run("--verbose", "plan", "--provider", "foundry", "--format", "json", str(example_specs)).output,
        run("--verbose", "plan", "--provider", "foundry", "--format", "markdown", str(example_specs)).output,
    ]
    foundry.tokens.denied.add("emulator-principal")
    outputs.append(run("--verbose", "plan", "--provider", "foundry", str(example_specs)).output)
    assert "Apply complete: 7 created" in outputs[1]
    assert "401 with the cached token; resending once with a fresh one" in outputs[1]
    assert "lacks the required data action" in outputs[-1]
    assert len(foundry.tokens.minted) >= 3
    texts = [*outputs, (tmp_path / "plan.json").read_text()]
    for token in foundry.tokens.minted:
        for part in token.split("."):  # not even the signature or the claims alone
            assert not any(part in text for text in texts)


def test_threads_refused_with_the_same_token_share_one_fresh_token() -> None:
    authority = TokenAuthority(clock=ManualClock())
    credential = authority.credential()
    tokens = auth.BearerTokens(auth.CredentialTokens(credential), clock=authority.clock)
    first = tokens.current()
    fresh = tokens.renew(first)
    assert fresh is not None and fresh != first
    assert tokens.renew(first) == fresh  # a second worker's 401 for the old token: no new sign-in
    assert credential.calls == 2
    static = auth.BearerTokens(auth.StaticToken(first), clock=authority.clock)
    assert static.renew(static.current()) is None  # nothing fresher to try: the 401 stands


def test_each_new_token_is_reported_once_to_the_secret_callback() -> None:
    authority = TokenAuthority(clock=ManualClock())
    seen: list[str] = []
    tokens = auth.BearerTokens(auth.CredentialTokens(authority.credential(lifetime=600)), clock=authority.clock,
                               on_new_secret=seen.append)
    first = tokens.current()
    assert tokens.current() == first
    authority.clock.advance(400)  # within five minutes of expiry: renewed
    second = tokens.current()
    assert second != first and seen == [first, second] == authority.minted
    assert first not in repr(tokens) and second not in repr(tokens)


def _fake_az(bin_dir: Path, token_file: Path) -> None:
    """An `az` that answers `az account get-access-token` like the Azure CLI, from a file."""
    script = bin_dir / "az"
    script.write_text(f"""#!{sys.executable}
import json, sys
assert sys.argv[1:5] == ["account", "get-access-token", "--output", "json"], sys.argv
token, expires_on = open({str(token_file)!r}).read().split()
print(json.dumps({{"accessToken": token, "expires_on": int(expires_on), "tokenType": "Bearer"}}))
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_the_real_default_credential_chain_signs_in_through_the_azure_cli(foundry: Foundry, example_specs: Path,
                                                                         tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("azure.identity")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    token_file = tmp_path / "token"
    token = foundry.tokens.mint(lifetime=3600)
    token_file.write_text(f"{token.token} {token.expires_on}")
    _fake_az(bin_dir, token_file)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    # Only the Azure CLI link of the chain: the managed-identity probe would reach for the network.
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "AzureCliCredential")
    applied = run("apply", "--provider", "foundry", "--auto-approve", str(example_specs))
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 7 created" in applied.stdout


def test_when_no_credential_in_the_chain_works_the_error_lists_what_was_tried(
    foundry: Foundry, example_specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("azure.identity")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no az on the PATH
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")  # the developer tools only: no network probe
    result = run("plan", "--provider", "foundry", str(example_specs))
    assert result.exit_code == 1
    assert "Error: signing in to Microsoft Entra ID for https://ai.azure.com/.default failed" in result.stderr
    assert "AzureCliCredential: Azure CLI not found on path" in result.stderr
    assert "Sign in one of these ways: `az login` (Azure CLI)" in result.stderr
    assert foundry.server.requests == []


def test_the_emulator_requires_api_version_and_its_own_unexpired_token_on_project_paths() -> None:
    import httpx

    clock = ManualClock()
    with running_emulator(tokens=TokenAuthority(clock=clock)) as server:
        url = server.project_url("p") + "/assistants"
        good = server.tokens.mint(lifetime=60).token
        other = TokenAuthority(clock=clock).mint().token  # well-formed, signed by someone else
        beta = {"OpenAI-Beta": "assistants=v2"}

        def status(token: str | None, query: dict[str, str] | None = None) -> tuple[int, str]:
            headers = {**beta, **({"Authorization": f"Bearer {token}"} if token else {})}
            answer = httpx.get(url, params={"api-version": "v1"} if query is None else query, headers=headers,
                               verify=LOOPBACK_TLS)
            return answer.status_code, answer.json()["error"]["code"] if answer.status_code != 200 else ""

        assert status(good) == (200, "")
        assert status(good, {}) == (400, "MissingApiVersionParameter")
        assert status(None) == (401, "401")
        assert status(other) == (401, "401")
        clock.advance(60)
        assert status(good) == (401, "401")
        assert server.tokens.refusals == ["invalid", "invalid", "expired"]


def test_the_emulator_command_writes_a_token_for_its_foundry_paths(foundry: Foundry, example_specs: Path,
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    token_file = tmp_path / "token.txt"
    process = subprocess.Popen([sys.executable, "-m", "assistants_sync", "emulator", "--port", "0",
                                "--token-file", str(token_file)], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        process.stdout.readline()
        projects = process.stdout.readline().strip()
        assert projects.startswith("Foundry project endpoints: http://127.0.0.1:")
        monkeypatch.setattr(auth, "wall_clock", auth.time.time)  # a real emulator: real time
        monkeypatch.setenv("AZURE_AI_PROJECT_ENDPOINT", projects.split(": ")[1].replace("NAME", "demo"))
        monkeypatch.setenv("AZURE_AI_TOKEN", token_file.read_text().strip())
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        result = run("apply", "--provider", "foundry", "--auto-approve", str(example_specs))
        assert result.exit_code == 0, result.output
        assert "Apply complete: 7 created" in result.stdout
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_openai_agent_manifests_on_foundry_are_refused_without_asking_foundrys_agents(foundry: Foundry,
                                                                                      tmp_path: Path) -> None:
    foundry.sign_in_with()
    write(tmp_path / "specs" / "agent.yaml", "kind: agent\nkey: helper\nmodel: gpt-5\n")
    result = run("plan", "--provider", "foundry", str(tmp_path / "specs"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {foundry.server.project_url('sales')} does not serve agents: a Foundry project serves no OpenAI "
        "Agents API ({project}/agents holds Foundry's own, versioned agents: kind: foundry_agent), and the manifests hold agents (kind: agent); nothing was changed. Plan them against an endpoint that serves agents, or check the "
        "endpoint.\n")
    # {project}/agents is asked only as Foundry's own agents' listing (kind=prompt), never as OpenAI's agents.
    assert all(r.query.get("kind") == "prompt" for r in foundry.server.requests
               if r.path.startswith("/api/projects/sales/agents"))


def test_the_foundry_agents_page_shows_knowledge_kept_on_the_openai_surface(monkeypatch: pytest.MonkeyPatch,
                                                                             tmp_path: Path) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "specs" / "faq.yaml", "kind: vector_store\nkey: faq\nname: FAQ\nfiles:\n  - faq.md\n")
    write(tmp_path / "specs" / "faq.md", "# FAQ\n")
    write(tmp_path / "agents" / "helper.yaml", "kind: agent\nkey: helper\nmodel: gpt-5\n")
    with running_emulator() as server:
        monkeypatch.setenv("AZURE_AI_PROJECT_ENDPOINT", server.project_url("demo"))
        monkeypatch.setenv("AZURE_AI_TOKEN", server.tokens.mint().token)
        planned = run("plan", "--provider", "foundry", "specs")
        check_shown("foundry-agents-knowledge-plan", planned.stdout,
                    command="assistants-sync plan --provider foundry specs")
        applied = run("apply", "--provider", "foundry", "--auto-approve", "specs")
        check_shown("foundry-agents-knowledge-apply", applied.stdout,
                    command="assistants-sync apply --provider foundry --auto-approve specs")
        assert {(r.method, r.path) for r in server.requests} >= {
            ("POST", "/api/projects/demo/openai/v1/files"), ("POST", "/api/projects/demo/openai/v1/vector_stores")}
        refused = run("plan", "--provider", "foundry", "agents")
        assert refused.exit_code == 1
        check_shown("foundry-agents-openai-agent-refused", refused.stderr,
                    command="assistants-sync plan --provider foundry agents")
