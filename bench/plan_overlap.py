"""Plans against the bare listing they wait for (issue 22): how much a plan adds to its pages.

    python bench/plan_overlap.py            # medians of 5, in turns with the bare loop
    python bench/plan_overlap.py --quick    # medians of 3
    python bench/plan_overlap.py --stages   # also where a plan's time goes, stage by stage

Rows: plans of 3,000 and 10,000 assistants (the cache of parsed manifests warm, as a
user's second plan, and cold), and a plan with every kind present (assistants, agents,
vector stores with their files, uploads), each against a bare httpx loop over the same
listings of the same emulator (a separate process, 20 ms a request). The bare loop of the
every-kind row lists the kinds at once too, one thread each, as the plan may. Targets:
within 1.10 x the bare loop and at most 0.15 s more. Request counts are asserted.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402  (bench/run.py: the emulator, the seeding, the counting transport)

from assistants_sync.actual.client import AssistantsClient, Endpoint  # noqa: E402
from assistants_sync.applying.apply import apply_plan  # noqa: E402
from assistants_sync.planning.reconcile import plan_from_manifests  # noqa: E402

RATIO, SLACK = 1.10, 0.15
HEADERS = {"Authorization": f"Bearer {bench.KEY}", "OpenAI-Beta": "assistants=v2"}


def _every(http: httpx.Client, path: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """A collection, 100 a page (or as `params` say) following the cursor: (objects, pages)."""
    query: dict[str, Any] = {"limit": 100, "order": "asc", **params}
    objects: list[dict[str, Any]] = []
    pages = 0
    while True:
        page = http.get(path, params=query).json()
        pages += 1
        objects += page["data"]
        if not page["has_more"] or not page["data"]:
            return objects, pages
        query["after"] = page["data"][-1]["id"]


def bare_every_kind(base_url: str) -> int:
    """What a plan lists, as plainly as httpx can, the kinds at once (one thread and connection each, as the plan):
    assistants, agents, vector stores then each store's files, uploads; returns the page count."""
    counts: list[int] = []

    def kind(path: str, **params: Any) -> None:
        headers = {**HEADERS, "OpenAI-Beta": "agents=v1"} if path == "agents" else HEADERS
        with bench.bare_client(base_url=base_url + "/", headers=headers) as http:
            objects, pages = _every(http, path, **params)
            if path == "vector_stores":
                for store in objects:
                    pages += _every(http, f"vector_stores/{store['id']}/files")[1]
            counts.append(pages)

    # The plan asks for the first page of assistants first (the endpoint's first answer), then the rest at once.
    with bench.bare_client(base_url=base_url + "/", headers=HEADERS) as http:
        http.get("assistants", params={"limit": 1})  # not counted: a warm connection, as the plan's own first page
    threads = [threading.Thread(target=kind, args=args, kwargs=kwargs) for args, kwargs in (
        (("assistants",), {}), (("agents",), {}), (("vector_stores",), {}),
        (("files",), {"purpose": "assistants", "limit": 10000}))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)


def every_kind_specs(work: Path, assistants: int, agents: int, stores: int, documents: int) -> Path:
    """Manifests of every kind: assistants (each searching one of the stores), agents, stores of documents."""
    specs = work / f"every-{assistants}-{agents}-{stores}-{documents}"
    (specs / "docs").mkdir(parents=True, exist_ok=True)
    for s in range(stores):
        for d in range(documents):
            (specs / "docs" / f"s{s}-{d:04d}.md").write_text(f"# Store {s}, document {d}\n\nText {d}.\n")
        (specs / f"store-{s}.yaml").write_text(f"kind: vector_store\nkey: store-{s}\nname: Store {s}\n"
                                               f"files:\n  - docs/s{s}-*.md\n")
    for i in range(assistants):
        (specs / f"bot-{i:05d}.yaml").write_text(
            f"key: bot-{i:05d}\nmodel: gpt-4o\nname: Bot {i}\ntools:\n  - type: file_search\n"
            f"tool_resources:\n  file_search:\n    vector_stores: [store-{i % stores}]\n")
    for i in range(agents):
        (specs / f"agent-{i:05d}.yaml").write_text(f"kind: agent\nkey: agent-{i:05d}\nmodel: gpt-5\nname: Agent {i}\n")
    return specs


class Row:
    def __init__(self, figure: str, plan: float, bare: float, requests: str, ok_requests: bool) -> None:
        self.figure, self.plan, self.bare, self.requests, self.ok_requests = figure, plan, bare, requests, ok_requests

    @property
    def ok(self) -> bool:
        return self.ok_requests and self.plan <= min(RATIO * self.bare, self.bare + SLACK)

    def line(self) -> str:
        return (f"{self.figure:44} plan {self.plan:6.3f} s  bare {self.bare:6.3f} s  x{self.plan / self.bare:.3f}  "
                f"+{self.plan - self.bare:6.3f} s  {self.requests:34}  {'yes' if self.ok else 'NO'}")


def in_turns(actions: dict[str, Callable[[], Any]], runs: int) -> dict[str, float]:
    return bench.interleaved(actions, runs)


def stages(url: str, specs: Path, runs: int) -> str:
    """Where one plan's time goes: until the last listing is in, sorting it, then the diff (medians)."""
    from assistants_sync.actual import remote

    marks: dict[str, float] = {}
    real = remote._sorted_state

    def marked(*args: Any, **kwargs: Any) -> Any:
        marks["listed"] = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            marks["sorted"] = time.perf_counter()

    remote._sorted_state = marked  # type: ignore[assignment]
    rows = []
    try:
        for _ in range(runs):
            with AssistantsClient(Endpoint(url, api_key=bench.KEY)) as c:
                started = time.perf_counter()
                plan_from_manifests([specs], c, "default")
                ended = time.perf_counter()
            rows.append((marks["listed"] - started, marks["sorted"] - marks["listed"], ended - marks["sorted"]))
    finally:
        remote._sorted_state = real  # type: ignore[assignment]
    listed, sorting, diff = (statistics.median(r[i] for r in rows) for i in range(3))
    return f"until the last page is in {listed:.3f} s, sorting the listing {sorting:.3f} s, diff and guards {diff:.3f} s"


def assistants_rows(work: Path, count: int, runs: int, show_stages: bool) -> list[Row]:
    state, specs = bench.seed(work, count)
    with bench.emulator(state, int(bench.LATENCY * 1000)) as url:
        requests: list[int] = []

        def plan_once() -> None:
            with AssistantsClient(Endpoint(url, api_key=bench.KEY)) as c:
                result = plan_from_manifests([specs], c, "default")
                requests.append(c.stats.requests)
            assert result.is_empty

        plan_once()  # warm-up: imports, the parse cache, the OS's file cache
        medians = in_turns({"bare": lambda: bench.bare_list(url), "warm": plan_once,
                            "cold": lambda: bench.without_cache(plan_once)}, runs)
        if show_stages:
            print(f"  N={count:,}, warm: {stages(url, specs, runs)}")
    expected = math.ceil(count / 100) + 3  # one (empty) page each of agents, vector stores, files
    counted = f"{min(requests)}-{max(requests)} requests (= {expected})"
    ok = min(requests) == max(requests) == expected
    return [Row(f"plan N={count:,}, cache warm", medians["warm"], medians["bare"], counted, ok),
            Row(f"plan N={count:,}, cache cold", medians["cold"], medians["bare"], counted, ok)]


def every_kind_row(work: Path, runs: int, show_stages: bool) -> list[Row]:
    assistants, agents, stores, documents = 2_000, 500, 3, 150
    specs = every_kind_specs(work, assistants, agents, stores, documents)
    with bench.emulator(None, int(bench.LATENCY * 1000), processing_polls=1) as url:
        with AssistantsClient(Endpoint(url, api_key=bench.KEY)) as c:
            first = plan_from_manifests([specs], c, "default")
            result = apply_plan(first, c, parallelism=20)
            assert not result.failed, [o.error for o in result.outcomes if o.error][:3]
        requests: list[int] = []

        def plan_once() -> None:
            with AssistantsClient(Endpoint(url, api_key=bench.KEY)) as c:
                planned = plan_from_manifests([specs], c, "default")
                requests.append(c.stats.requests)
            assert planned.is_empty, [(c.kind, c.key, c.action) for c in planned.changes][:5]

        plan_once()
        pages = bare_every_kind(url)
        medians = in_turns({"bare": lambda: bare_every_kind(url), "warm": plan_once}, runs)
        if show_stages:
            print(f"  every kind: {stages(url, specs, runs)}")
    files = stores * documents
    expected = (math.ceil(assistants / 100) + math.ceil(agents / 100) + 1 + stores * math.ceil(documents / 100)
                + math.ceil(files / 10_000))
    counted = f"{min(requests)}-{max(requests)} requests (= {expected}; bare {pages})"
    ok = min(requests) == max(requests) == expected == pages
    figure = f"plan of every kind ({assistants:,}+{agents}+{stores} stores+{files} files)"
    return [Row(figure, medians["warm"], medians["bare"], counted, ok)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="medians of 3, not 5")
    parser.add_argument("--stages", action="store_true", help="also time each stage of a plan")
    parser.add_argument("--only", choices=["assistants", "every-kind"], help="one kind of row")
    args = parser.parse_args()
    runs = 3 if args.quick else 5
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["ASSISTANTS_SYNC_CACHE_DIR"] = str(work / "cache")
        if args.only != "every-kind":
            for count in (3_000, 10_000):
                rows += assistants_rows(work, count, runs, args.stages)
        if args.only != "assistants":
            rows += every_kind_row(work, runs, args.stages)
    print(f"target: plan <= min({RATIO} x bare, bare + {SLACK} s); medians of {runs}, in turns")
    for row in rows:
        print(row.line())
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load {os.getloadavg()[0]:.2f}")
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
