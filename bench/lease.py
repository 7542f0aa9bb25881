"""What the lock's lease costs: renewals during a real `apply` of 500 assistants.

    python bench/lease.py [--lease SECONDS] [--latency-ms MS]

Runs the CLI's apply (500 creates, parallelism 10) against an emulator process with
the latency given, with `-v` (one log line per request), and counts the requests by
what they are: the lock's renewals (a modify of its vector store), the rest of the
lock (create, listing, delete) and the apply's own. The renewals per minute follow
from the lease (one every third of it); their share is what they add to the requests.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import KEY, ROOT, emulator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lease", type=float, default=3.0)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--count", type=int, default=500)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        specs = Path(work) / "specs"
        specs.mkdir()
        for i in range(options.count):
            (specs / f"bot-{i:04d}.yaml").write_text(f"key: bot-{i:04d}\nmodel: gpt-4o\n", encoding="utf-8")
        with emulator(None, options.latency_ms, processing_polls=0) as url:
            env = {**os.environ, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": url}
            started = time.monotonic()
            result = subprocess.run([sys.executable, "-m", "assistants_sync", "apply", "-v", "--auto-approve",
                                     "--lock-lease", f"{options.lease:g}", str(specs)],
                                    capture_output=True, text=True, env=env, cwd=ROOT, check=True)
            seconds = time.monotonic() - started
    requests = re.findall(r" DEBUG \S+: (GET|POST|DELETE) (\S+) -> ", result.stderr)
    renewals = sum(1 for method, path in requests if method == "POST" and re.search(r"/vector_stores/vs_\w+$", path))
    print(f"apply of {options.count} assistants, lease {options.lease:g} s, {options.latency_ms} ms a request: "
          f"{seconds:.2f} s, {len(requests)} requests, {renewals} renewals "
          f"({renewals / max(seconds, 1e-9) * 60:.0f} a minute; {renewals / len(requests):.2%} of the requests)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
