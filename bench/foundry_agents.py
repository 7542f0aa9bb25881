"""A plan of 1,000 Foundry agents against a bare listing loop, beside the same for 1,000 classic assistants.

    python bench/foundry_agents.py            # 1,000 of each, 20 ms a request, 5 runs in turns
    python bench/foundry_agents.py --count 300 --runs 3

Both plans run on `--provider foundry` against one emulator process, so each lists the
same four collections (classic assistants, Foundry's agents, vector stores, files); each
bare loop lists those four at once (one thread each, as the plan does) with plain httpx.
Asserted: the Foundry plan makes ceil(N/100) agent listings and nothing else per agent
(every latest version is tagged).
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistants_sync.actual.auth import BearerTokens, StaticToken  # noqa: E402
from assistants_sync.actual.client import AssistantsClient, Endpoint  # noqa: E402
from assistants_sync.applying.apply import apply_plan  # noqa: E402
from assistants_sync.planning.reconcile import plan_from_manifests  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from run import bare_client, interleaved  # noqa: E402  (bench/run.py: a bare loop's client; actions timed in turns)

LATENCY_MS = 20
_LAUNCHER = """
import sys
from pathlib import Path
from assistants_sync.session import emulator_server
server = emulator_server(state_file=None, load_file=None, host="127.0.0.1", port=0, api_key_env=None,
                         required_headers={}, token_file=Path(sys.argv[2]), latency=int(sys.argv[1]) / 1000)
print(server.project_url("bench"), flush=True)
server.httpd.serve_forever()
"""


@contextmanager
def foundry_emulator(work: Path) -> Iterator[tuple[str, str]]:
    """An emulator process (20 ms a request); yields (project endpoint, token)."""
    token_file = work / "token.txt"
    process = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(LATENCY_MS), str(token_file)],
                               stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    project = process.stdout.readline().strip()
    try:
        yield project, token_file.read_text().strip()
    finally:
        process.terminate()
        process.wait()


class Counting(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return super().handle_request(request)


def client(project: str, token: str, transport: httpx.BaseTransport | None = None) -> AssistantsClient:
    endpoint = Endpoint.foundry(project, tokens=BearerTokens(StaticToken(token)))
    return AssistantsClient(endpoint, transport=transport) if transport else AssistantsClient(endpoint)


def manifests(directory: Path, count: int, kind: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        key = f"{'fa' if kind == 'foundry_agent' else 'as'}-{index:05d}"
        (directory / f"{key}.yaml").write_text(
            f"kind: {kind}\nkey: {key}\nmodel: gpt-4o\ninstructions: Be brief, number {index}.\n", encoding="utf-8")
    return directory


def bare_loop(project: str, token: str) -> int:
    """The four listings a Foundry plan makes, at once as the plan makes them, as plainly as httpx can; returns
    the page count."""
    listings = ((f"{project}/assistants", {"api-version": "v1"}),
                (f"{project}/agents", {"api-version": "v1", "kind": "prompt"}),
                (f"{project}/openai/v1/vector_stores", {}),
                (f"{project}/openai/v1/files", {"purpose": "assistants"}))
    pages = [0] * len(listings)

    def listing(index: int) -> None:
        url, params = listings[index]
        query: dict[str, Any] = {"limit": 100, "order": "asc", **params}
        with bare_client(headers={"Authorization": f"Bearer {token}", "OpenAI-Beta": "assistants=v2"}) as http:
            while True:
                page = http.get(url, params=query).raise_for_status().json()
                pages[index] += 1
                if not page.get("has_more") or not page["data"]:
                    return
                query["after"] = page["data"][-1]["id"]

    threads = [threading.Thread(target=listing, args=(i,)) for i in range(len(listings))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(pages)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        rows = []
        for kind in ("assistant", "foundry_agent"):
            with foundry_emulator(work) as (project, token):
                specs = manifests(work / kind, options.count, kind)
                seeding = client(project, token)
                result = apply_plan(plan_from_manifests([specs], seeding, "default"), seeding, parallelism=20)
                assert not result.failed, result.failed[:3]
                counting = Counting()
                planned = plan_from_manifests([specs], client(project, token, counting), "default")
                assert planned.is_empty, planned.changes[:3]
                agent_pages = [r for r in counting.requests if r.url.path.endswith("/agents")]
                per_agent = [r for r in counting.requests if "/agents/" in r.url.path]
                if kind == "foundry_agent":
                    assert len(agent_pages) == math.ceil(options.count / 100), len(agent_pages)
                    assert not per_agent, per_agent[:3]
                times = interleaved({"plan": lambda: plan_from_manifests([specs], client(project, token), "default"),
                                  "bare": lambda: bare_loop(project, token)}, options.runs)
                rows.append((kind, times["plan"], times["bare"], len(counting.requests)))
        print(f"{'plan of':<22}{'plan':>9}{'bare loop':>11}{'ratio':>8}{'requests':>10}")
        for kind, plan, bare, requests in rows:
            print(f"{options.count:,} {kind + 's':<16}{plan:>8.3f}s{bare:>10.3f}s{plan / bare:>7.2f}x{requests:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
