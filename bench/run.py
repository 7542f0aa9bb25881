"""Benchmark assistants-sync against its issue-6 targets.

    python bench/run.py            # everything (a few minutes on 2 cores)
    python bench/run.py --quick    # fewer repetitions, no P=1 apply

The emulator runs in its own process (so it never competes with the client for the
GIL), started with the latency under test and seeded from a state file. Each figure is
the median of several runs; the table prints the target beside it and what bounds it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistants_sync.applying.apply import apply_plan  # noqa: E402
from assistants_sync.actual.client import AssistantsClient, Endpoint, tls_context  # noqa: E402
from assistants_sync.emulator import AssistantStore  # noqa: E402
from assistants_sync.planning.plan import Action, Change, FieldChange, Plan  # noqa: E402
from assistants_sync.planning.reconcile import plan_from_manifests  # noqa: E402
from assistants_sync.kinds.vector_store import _POLL_DELAYS  # noqa: E402
from assistants_sync.render.plans import render_text  # noqa: E402

KEY = "bench-key"
LATENCY = 0.020
Row = tuple[str, str, str, bool, str]


# The CLI has no option for how long processing takes, so the knowledge rows start the
# emulator through this launcher (same server, same process model) and set it.
_LAUNCHER = """
import sys
from assistants_sync.session import emulator_server
server = emulator_server(state_file=None, load_file=None, host="127.0.0.1", port=0, api_key_env=None,
                         required_headers={}, token_file=None, latency=int(sys.argv[1]) / 1000)
server.knowledge.processing_polls = int(sys.argv[2])
print(f"Emulator serving the Assistants API at {server.base_url}", flush=True)
server.httpd.serve_forever()
"""


@contextmanager
def emulator(state: Path | None, latency_ms: int, *, processing_polls: int | None = None) -> Iterator[str]:
    """An emulator process on a free port, seeded from `state` (or empty, its vector stores'
    files processed after `processing_polls` reads); yields its base URL."""
    if processing_polls is None:
        assert state is not None
        command = [sys.executable, "-m", "assistants_sync", "emulator", "--port", "0", "--load", str(state),
                   "--latency-ms", str(latency_ms)]
    else:
        command = [sys.executable, "-c", _LAUNCHER, str(latency_ms), str(processing_polls)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"(http://\S+/v1)", line)
    if not match:
        process.kill()
        raise RuntimeError(f"emulator did not start: {line!r}")
    try:
        yield match.group(1)
    finally:
        process.terminate()
        process.wait()


def seed(directory: Path, count: int, *, instructions: str = "Be brief.", stack: str = "default",
         name: str = "Bench") -> tuple[Path, Path]:
    """A state file with `count` managed assistants and matching manifests; returns (state, specs)."""
    store = AssistantStore()
    specs = directory / f"specs-{count}-{len(instructions)}"
    specs.mkdir(parents=True, exist_ok=True)
    prompt = specs / "prompt.md"
    prompt.write_text(instructions, encoding="utf-8")
    from assistants_sync.desired.manifest import DesiredAssistant
    from assistants_sync.planning.diff import desired_form

    for i in range(count):
        key = f"bench-{i:05d}"
        (specs / f"{key}.yaml").write_text(
            f"key: {key}\nmodel: gpt-4o\nname: {name}\ninstructions_file: prompt.md\n", encoding="utf-8")
        desired = DesiredAssistant(key=key, source="", request={"model": "gpt-4o", "name": name,
                                                                  "instructions": instructions})
        body = {k: v for k, v in desired_form(desired, stack).as_dict().items() if v not in (None, [], {})}
        store.create(body)
    state = directory / f"state-{count}-{len(instructions)}.json"
    store.dump(state)
    return state, specs


def client(base_url: str, parallelism: int = 10) -> AssistantsClient:
    return AssistantsClient(Endpoint(base_url, api_key=KEY))


def bare_client(**options: Any) -> httpx.Client:
    """An httpx client for a bare loop. It verifies TLS with the context every AssistantsClient of the process
    shares (built once a process): neither side pays for loading CA certificates on every run."""
    return httpx.Client(verify=tls_context(), **options)


def bare_list(base_url: str) -> int:
    """The list requests alone, as plainly as httpx can make them; returns the page count."""
    pages = 0
    params: dict[str, Any] = {"limit": 100, "order": "asc"}
    headers = {"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "assistants=v2"}
    with bare_client(headers=headers) as http:
        while True:
            page = http.get(base_url + "/assistants", params=params).json()
            pages += 1
            if not page["has_more"]:
                return pages
            params["after"] = page["data"][-1]["id"]


def median_time(action: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def interleaved(actions: dict[str, Callable[[], Any]], runs: int) -> dict[str, float]:
    """Median seconds of each action, run in turns (a, b, a, b, ...) so that load from others hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def without_cache(action: Callable[[], Any]) -> Any:
    """`action` with the cache of parsed manifests turned off."""
    saved = os.environ.get("ASSISTANTS_SYNC_CACHE_DIR")
    os.environ["ASSISTANTS_SYNC_CACHE_DIR"] = "off"
    try:
        return action()
    finally:
        if saved is None:
            del os.environ["ASSISTANTS_SYNC_CACHE_DIR"]
        else:
            os.environ["ASSISTANTS_SYNC_CACHE_DIR"] = saved


# Issue 10's organisation-scale targets: within 1.2 x (bare list + slack); else issue 6's 1.2 x bare + 0.5.
PLAN_SLACK = {3_000: 0.5, 10_000: 1.5}


def bench_plan(work: Path, runs: int) -> list[Row]:
    from assistants_sync.desired.manifest import load_manifests

    rows: list[Row] = []
    for count in (100, 1_000, 3_000, 5_000, 10_000):
        state, specs = seed(work, count)
        with emulator(state, int(LATENCY * 1000)) as url:
            requests: list[int] = []

            def plan_once() -> Plan:
                with client(url) as c:
                    result = plan_from_manifests([specs], c, "default")
                    requests.append(c.stats.requests)
                assert result.is_empty, "benchmark manifests must match the seeded assistants"
                return result

            pages = bare_list(url)
            plan_once()  # warm: the first run pays for imports, writes the parse cache, fills the OS's file cache
            medians = interleaved({"bare": lambda: bare_list(url), "plan": plan_once,
                                   "load": lambda: load_manifests([specs]),
                                   "uncached": lambda: without_cache(lambda: load_manifests([specs]))}, runs)
        bare, planned, loading, uncached = medians["bare"], medians["plan"], medians["load"], medians["uncached"]
        # The assistants' pages, and one (empty) page of every other kind the endpoint serves:
        # agents, vector stores (none here, so no store's files) and uploaded files.
        expected_requests = math.ceil(count / 100) + 3
        rows.append((f"plan N={count:,}: requests", str(max(requests)), f"= {expected_requests} (ceil(N/100) + 3)",
                     max(requests) == expected_requests,
                     "API page size (100); one listing each of agents, vector stores, files"))
        if count in PLAN_SLACK:
            limit = 1.2 * (bare + PLAN_SLACK[count])
            target = f"<= {limit:.2f} s (1.2 x (bare + {PLAN_SLACK[count]}))"
        else:
            limit = 1.2 * bare + 0.5
            target = f"<= {limit:.2f} s (1.2 x bare + 0.5)"
        rows.append((f"plan N={count:,}: wall time",
                     f"{planned:.2f} s (bare list {bare:.2f} s, x{planned / bare:.2f}; loading {loading:.2f} s, "
                     f"uncached {uncached:.2f} s)",
                     target, planned <= limit, f"latency: {pages} pages x 20 ms; then the diff (loading overlaps the listing)"))
    return rows


def bare_updates(base_url: str, ids: list[str], parallelism: int) -> float:
    """The same updates as an apply, as plainly as httpx can make them (`parallelism` threads, one connection each,
    sharing a queue as apply's workers do); returns the seconds they took."""
    work: queue.SimpleQueue[str] = queue.SimpleQueue()
    for assistant_id in ids:
        work.put(assistant_id)
    headers = {"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "assistants=v2"}

    def worker() -> None:
        with bare_client(base_url=base_url + "/", headers=headers) as http:
            while True:
                try:
                    assistant_id = work.get_nowait()
                except queue.Empty:
                    return
                http.post(f"assistants/{assistant_id}", json={"name": "Bench, bare"}).raise_for_status()

    threads = [threading.Thread(target=worker) for _ in range(parallelism)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def bench_apply(work: Path, runs: int, parallelisms: tuple[int, ...]) -> list[Row]:
    rows: list[Row] = []
    count = 500
    state, specs = seed(work, count)
    with emulator(state, int(LATENCY * 1000)) as url:
        for parallelism in parallelisms:
            times, bare_times = [], []
            for run in range(runs):
                for path in specs.glob("*.yaml"):  # a new name each run: always 500 updates
                    text = path.read_text()
                    path.write_text(re.sub(r"name: .*", f"name: Bench P{parallelism} run {run}", text))
                with client(url, parallelism) as c:
                    planned = plan_from_manifests([specs], c, "default")
                    assert planned.summary.update == count
                    before = c.stats.requests
                    started = time.perf_counter()
                    result = apply_plan(planned, c, parallelism=parallelism)
                    times.append(time.perf_counter() - started)
                    sent, retries = c.stats.requests - before, c.stats.retries
                assert not result.failed and sent == count + retries, (sent, retries)
                if parallelism == max(parallelisms):  # in turns with the apply: the same 500 updates, bare
                    bare_times.append(bare_updates(url, [c.id for c in planned.changes if c.id], parallelism))
            elapsed = statistics.median(times)
            limit = 1.3 * math.ceil(count / parallelism) * LATENCY
            rows.append((f"apply K=500, P={parallelism}", f"{elapsed:.2f} s ({sent} requests, {retries} retried)",
                         f"<= {limit:.2f} s (1.3 x ceil(K/P) x 20 ms)", elapsed <= limit,
                         "latency x rounds; emulator CPU at high P"))
            if bare_times:
                bare = statistics.median(bare_times)
                bound = math.ceil(count / parallelism) * LATENCY
                rows.append((f"  against the bare loop of those updates, P={parallelism}",
                             f"x{elapsed / bare:.2f} (bare {bare:.2f} s = x{bare / bound:.2f} the latency bound)",
                             "<= x1.15 the bare loop", elapsed <= 1.15 * bare,
                             "httpx and the emulator's CPU on 2 cores (BENCHMARKS.md)"))
    return rows


# The vector store rows: a store's documents, uploaded and attached by apply, listed by plan.
POLLS = 3  # reads of a store before the emulator has processed its new files (apply polls the batch)
DOCUMENT_BYTES = 8_000
_ID = re.compile(r"/(?:asst_|vs_|vsfb_|file-)[A-Za-z0-9]{16,}")  # the emulator's ids


class CountingTransport(httpx.BaseTransport):
    """httpx's own transport, one per thread as the client makes them, counting requests by
    method and path (ids replaced by {id}): which requests a run made, not only how many."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.first: dict[str, float] = {}  # perf_counter when each kind of request was first sent
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[httpx.HTTPTransport] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        transport: httpx.HTTPTransport | None = getattr(self._local, "transport", None)
        if transport is None:
            transport = httpx.HTTPTransport(limits=httpx.Limits(max_connections=2, max_keepalive_connections=2))
            self._local.transport = transport
            with self._lock:
                self._opened.append(transport)
        name = f"{request.method} {_ID.sub('/{id}', request.url.path.split('/v1', 1)[-1])}"
        with self._lock:
            self.seen[name] += 1
            self.first.setdefault(name, time.perf_counter())
        return transport.handle_request(request)

    def close(self) -> None:
        for transport in self._opened:
            transport.close()

    def count(self, method: str = "", path: str = "") -> int:
        return sum(n for request, n in self.seen.items() if request.startswith(method) and path in request)


def documents(directory: Path, count: int) -> Path:
    """`count` distinct Markdown documents of ~8 kB and one vector_store manifest naming them; returns its directory."""
    specs = directory / f"store-{count}"
    docs = specs / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    paragraph = "A paragraph of product documentation, long enough to be chunked like a real page. " * 10
    for i in range(count):
        body = f"# Document {i}\n\n" + "\n\n".join(f"{j}. {paragraph}" for j in range(10))
        (docs / f"doc-{i:05d}.md").write_text(body[:DOCUMENT_BYTES], encoding="utf-8")
    (specs / "store.yaml").write_text("kind: vector_store\nkey: bench-docs\nname: Bench documents\n"
                                      "files:\n  - docs/*.md\n", encoding="utf-8")
    return specs


def knowledge_client(base_url: str, transport: CountingTransport) -> AssistantsClient:
    return AssistantsClient(Endpoint(base_url, api_key=KEY), transport=transport)


def bare_listing(base_url: str) -> int:
    """What a plan lists, as plainly as httpx can: assistants, agents, vector stores, each
    store's files, uploaded files (pages of 100, as the client asks); returns the page count."""
    headers = {"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "assistants=v2"}
    pages = 0
    with bare_client(base_url=base_url + "/", headers=headers) as http:

        def every(path: str, **extra: Any) -> list[dict[str, Any]]:
            nonlocal pages
            params: dict[str, Any] = {"limit": 100, "order": "asc", **extra.pop("params", {})}
            listed: list[dict[str, Any]] = []
            while True:
                page = http.get(path, params=params, **extra).json()
                pages += 1
                listed += page["data"]
                if not page["has_more"]:
                    return listed
                params["after"] = page["data"][-1]["id"]

        every("assistants")
        every("agents", headers={"OpenAI-Beta": "agents=v1"})
        for store in every("vector_stores"):
            every(f"vector_stores/{store['id']}/files")
        every("files", params={"purpose": "assistants"})
    return pages


def bare_uploads(base_url: str, paths: list[Path], parallelism: int) -> list[str]:
    """Upload `paths` with `parallelism` threads, one httpx client each, as plainly as httpx can; their ids."""
    todo: queue.SimpleQueue[Path | None] = queue.SimpleQueue()
    for path in paths:
        todo.put(path)
    for _ in range(parallelism):
        todo.put(None)
    ids: list[str] = []

    def work() -> None:
        with bare_client(base_url=base_url + "/", headers={"Authorization": f"Bearer {KEY}"}) as http:
            while (path := todo.get()) is not None:
                with open(path, "rb") as stream:
                    answer = http.post("files", files={"file": (path.name, stream)}, data={"purpose": "assistants"})
                ids.append(answer.raise_for_status().json()["id"])

    workers = [threading.Thread(target=work) for _ in range(parallelism)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return ids


def bare_store(base_url: str, ids: list[str]) -> None:
    """Create a store, attach `ids` in one batch (attributes as apply sets them), poll as apply does."""
    headers = {"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "assistants=v2"}
    with bare_client(base_url=base_url + "/", headers=headers) as http:
        store = http.post("vector_stores", json={"name": "Bare", "metadata": {"k": "v"}}).raise_for_status().json()
        files = [{"file_id": i, "attributes": {"assistants-sync.path": f"docs/{i}.md", "assistants-sync.sha256": "0" * 64},
                  "chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 800,
                                                                     "chunk_overlap_tokens": 400}}} for i in ids]
        batch = http.post(f"vector_stores/{store['id']}/file_batches", json={"files": files}).raise_for_status().json()
        for delay in _POLL_DELAYS:
            time.sleep(delay)
            if http.get(f"vector_stores/{store['id']}/file_batches/{batch['id']}").json()["status"] != "in_progress":
                return
        raise RuntimeError("the bare store was not processed")


def bare_hashing(paths: list[Path]) -> None:
    for path in paths:
        with open(path, "rb") as stream:
            hashlib.sha256(stream.read()).hexdigest()


def first_apply(url: str, specs: Path, parallelism: int) -> tuple[float, float, CountingTransport]:
    """Plan and apply `specs` on an endpoint that has none of it; (seconds of the apply, seconds
    until the store was created, i.e. of the uploads, its requests)."""
    transport = CountingTransport()
    with knowledge_client(url, transport) as c:
        planned = plan_from_manifests([specs], c, "default")
        transport.seen.clear()
        transport.first.clear()
        started = time.perf_counter()
        result = apply_plan(planned, c, parallelism=parallelism)
        elapsed = time.perf_counter() - started
    transport.close()
    assert not result.failed, [o.error for o in result.outcomes if o.error]
    return elapsed, transport.first["POST /vector_stores"] - started, transport


def bench_store_plan(work: Path, runs: int) -> list[Row]:
    """Plan of one store of 2,000 unchanged documents, after the apply that made it."""
    from assistants_sync.desired.manifest import load_manifests

    count = 2_000
    specs = documents(work, count)
    paths = sorted((specs / "docs").glob("*.md"))
    with emulator(None, int(LATENCY * 1000), processing_polls=POLLS) as url:
        first_apply(url, specs, 10)
        transports: list[CountingTransport] = []

        def plan_once() -> Plan:
            transport = CountingTransport()
            with knowledge_client(url, transport) as c:
                result = plan_from_manifests([specs], c, "default")
            transport.close()
            transports.append(transport)
            assert result.is_empty, render_text(result)
            return result

        pages = bare_listing(url)
        plan_once()  # warm, as the plan rows
        medians = interleaved({"bare": lambda: bare_listing(url), "plan": plan_once,
                               "load": lambda: load_manifests([specs]), "hash": lambda: bare_hashing(paths)}, runs)
    seen = transports[-1]
    requests, posts, uploads = seen.count(), seen.count("POST"), seen.count("POST", " /files")
    store_pages, file_pages = seen.count("GET", "/vector_stores/{id}/files"), seen.count("GET", " /files")
    # What the API needs: one page each of assistants, agents and vector stores, the store's
    # files 100 a page, and the uploads in one page (GET /files takes up to 10,000).
    needed = 3 + math.ceil(count / 100) + 1
    bare, planned, loading, hashing = medians["bare"], medians["plan"], medians["load"], medians["hash"]
    limit = 1.2 * bare + 0.5
    return [
        (f"plan, store of {count:,} unchanged files: requests",
         f"{requests} ({store_pages} store-file pages, {file_pages} /files pages, {posts} POST, {uploads} uploads)",
         f"= {needed} (3 listings + ceil(F/100) + 1), 0 POST", requests == needed and posts == 0,
         "API page sizes: 100 files of a store a page, 10,000 uploads a page"),
        (f"plan, store of {count:,} unchanged files: wall time",
         f"{planned:.2f} s (bare listing {bare:.2f} s, x{planned / bare:.2f}; loading {loading:.2f} s)",
         f"<= {limit:.2f} s (1.2 x bare + 0.5)", planned <= limit,
         f"latency: {pages} pages x 20 ms; then hashing the documents"),
        (f"  loading that manifest: hashing {count:,} files of 8 kB",
         (f"{loading:.2f} s (bare hashlib loop {hashing:.3f} s, x{loading / hashing:.1f}; "
          f"{loading / count * 1e6:.0f} us a file)"),
         "<= 0.25 s (125 us a file)", loading <= 0.25, "CPU: open, read, sha256, stat per file; glob"),
    ]


def bench_store_apply(work: Path, runs: int, parallelism: int = 10) -> list[Row]:
    """First apply of one store of 500 documents: 500 uploads, the store, one batch, the polls."""
    count = 500
    specs = documents(work, count)
    paths = sorted((specs / "docs").glob("*.md"))
    applied: list[float] = []
    uploading: list[float] = []
    bares: list[tuple[float, float]] = []  # (uploads, uploads + store + batch + polls)
    seen = CountingTransport()
    for _ in range(runs):  # a fresh endpoint each run: a first apply every time
        with emulator(None, int(LATENCY * 1000), processing_polls=POLLS) as url:
            started = time.perf_counter()
            ids = bare_uploads(url, paths, parallelism)
            uploaded = time.perf_counter() - started
            bare_store(url, ids)
            bares.append((uploaded, time.perf_counter() - started))
        with emulator(None, int(LATENCY * 1000), processing_polls=POLLS) as url:
            elapsed, uploaded, seen = first_apply(url, specs, parallelism)
            applied.append(elapsed)
            uploading.append(uploaded)
    elapsed, uploaded = statistics.median(applied), statistics.median(uploading)
    bare_up, bare = statistics.median(b[0] for b in bares), statistics.median(b[1] for b in bares)
    requests, uploads = seen.count(), seen.count("POST", " /files")
    after_uploads = requests - uploads
    limit = 1.2 * bare
    detail = ", ".join(f"{n} {request}" for request, n in sorted(seen.seen.items()) if request != "POST /files")
    return [
        (f"first apply, store of {count} files: requests",
         f"{requests} ({requests / count:.3f} a file: {uploads} uploads; {detail})",
         f"= {count + 2 + POLLS} (F uploads + store + batch + {POLLS} polls)",
         requests == count + 2 + POLLS and uploads == count, f"one upload a file; a batch takes 2,000; {POLLS} polls"),
        (f"first apply, store of {count} files, P={parallelism}: wall time",
         (f"{elapsed:.2f} s (bare loop {bare:.2f} s, x{elapsed / bare:.2f}; uploads {uploaded:.2f} s against "
          f"bare uploads {bare_up:.2f} s, x{uploaded / bare_up:.2f}; then {after_uploads} requests in "
          f"{elapsed - uploaded:.2f} s against {bare - bare_up:.2f} s)"),
         f"<= {limit:.2f} s (1.2 x bare)", elapsed <= limit,
         "latency x ceil(F/P) rounds of uploads, then store, batch, polls in turn"),
    ]


# An expression, in a child process, for that process's own peak resident memory in MB.
_PEAK_MEMORY_MB = ("(int(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:'))) / 1024"
                   " if sys.platform == 'linux' else"
                   " __import__('resource').getrusage(__import__('resource').RUSAGE_SELF).ru_maxrss"
                   " / (1024 * 1024 if sys.platform == 'darwin' else 1024))")


def bench_cpu(work: Path, runs: int) -> list[Row]:
    instructions = "".join(f"Rule {i}: answer clearly and cite sources. " for i in range(250))[:10_000]
    state, specs = seed(work, 5_000, instructions=instructions)
    with emulator(state, 0) as url:
        with bare_client(headers={"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "assistants=v2"}) as http:
            http.get(url + "/assistants", params={"limit": 1})  # connect first: time the page, not the handshake
            page, _ = median_time(lambda: http.get(url + "/assistants", params={"limit": 100}), runs)
        # Peak memory in a fresh process, so this process's own data does not count. Linux keeps a
        # process's ru_maxrss across exec, so a child started by a large parent reports the parent's
        # peak: the child's own high-water mark is VmHWM in /proc/self/status (ru_maxrss elsewhere).
        script = ("import sys, time; sys.path.insert(0, %r)\n"
                  "from assistants_sync.actual.client import AssistantsClient, Endpoint\n"
                  "from assistants_sync.planning.reconcile import plan_from_manifests\n"
                  "started = time.perf_counter()\n"
                  "with AssistantsClient(Endpoint(%r, api_key=%r)) as c:\n"
                  "    plan = plan_from_manifests([%r], c, 'default')\n"
                  "print(time.perf_counter() - started, len(plan.changes), %s)\n"
                  ) % (str(ROOT), url, KEY, str(specs), _PEAK_MEMORY_MB)
        samples = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
                   for _ in range(runs)]
    seconds = statistics.median(float(s[0]) for s in samples)
    memory = max(float(s[2]) for s in samples)
    assert all(s[1] == "0" for s in samples)
    rows: list[Row] = [
        ("plan N=5,000 x 10 KB, no latency", f"{seconds:.2f} s", "< 2 s", seconds < 2, "CPU: parse, normalise, hash"),
        ("  peak memory of that plan", f"{memory:.0f} MB", "< 250 MB", memory < 250, "50 MB of instructions, twice"),
        ("emulator: one page of 100 (of 5,000 x 10 KB)", f"{page * 1000:.1f} ms", "milliseconds", page < 0.05,
         "emulator CPU: copy + JSON of 1 MB"),
    ]
    old = "".join(f"Line {i}: keep answers short and precise.\n" for i in range(6_500))[:256_000]
    new = old.replace("Line 3000: keep", "Line 3000: KEEP")
    plan = Plan(stack="s", endpoint="e", remote_fingerprint="f", changes=[Change(
        action=Action.UPDATE, key="big", assistant_id="asst_1", fields={"instructions": FieldChange(before=old, after=new)})])
    render, text = median_time(lambda: render_text(plan), runs)
    rows.append(("diff of 256,000 chars, one line changed", f"{render * 1000:.0f} ms ({text.count(chr(10))} lines)",
                 "< 200 ms", render < 0.2, "CPU: difflib on ~6,500 lines"))
    return rows


def bench_help(runs: int) -> list[Row]:
    command = [sys.executable, "-m", "assistants_sync", "--help"]
    elapsed, _ = median_time(lambda: subprocess.run(command, capture_output=True, check=True, cwd=ROOT), runs)
    return [("assistants-sync --help", f"{elapsed:.2f} s", "< 0.3 s", elapsed < 0.3, "interpreter start + click")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions; skip the P=1 apply (10 s a run)")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--plan-only", action="store_true", help="only the plan figures")
    parser.add_argument("--stores-only", action="store_true", help="only the vector store figures")
    args = parser.parse_args()
    runs = 3 if args.quick else 5
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # The plans run as a user's second plan would: with the cache of parsed manifests that
        # the first one (the warm-up) wrote. A private directory, not the user's own cache.
        os.environ["ASSISTANTS_SYNC_CACHE_DIR"] = str(work / "cache")
        everything = not (args.plan_only or args.stores_only)
        if everything:
            rows += bench_help(runs)
        if not args.stores_only:
            rows += bench_plan(work, runs)
        rows += bench_store_plan(work, runs)  # a plan figure and a store figure
        if not args.plan_only:
            rows += bench_store_apply(work, 1 if args.quick else 3)
        if everything:
            rows += bench_apply(work, 1 if args.quick else 3, (4, 10, 20) if args.quick else (1, 4, 10, 20))
            rows += bench_cpu(work, runs)
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    print(f"{'figure'.ljust(width[0])}  {'measured'.ljust(width[1])}  {'target'.ljust(width[2])}  ok   bound by")
    for figure, measured, target, ok, bound in rows:
        print(f"{figure.ljust(width[0])}  {measured.ljust(width[1])}  {target.ljust(width[2])}  "
              f"{'yes' if ok else 'NO ':3}  {bound}")
    if args.json:
        args.json.write_text(json.dumps([dict(zip(("figure", "measured", "target", "ok", "bound"), r)) for r in rows],
                                        indent=1))
    print(f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
