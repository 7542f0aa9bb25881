"""The command outputs the documentation shows, so that tests can hold them to the tool's real output.

A shown output is a ``console`` block right after an HTML comment naming it, in
``docs/**/*.md`` and ``README.md``::

    <!-- output: quickstart-plan -->
    ```console
    $ assistants-sync plan specs
    Plan: 7 to create, 0 to update, 0 to delete.
    ```

The first line is the command (after ``$ ``); the rest is what it prints. A test runs
that command against a real emulator and calls `check_shown("quickstart-plan", output)`.
What differs from run to run (remote ids, durations, process ids) is written in the
page as it once appeared and masked on both sides before comparing (`normalised`).
`tests/test_docs_outputs.py` checks that every console block is named and that a test
checks each name.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"<!-- output: ([a-z0-9][a-z0-9-]*) -->\n(?P<indent>[ \t]*)```console\n(?P<body>.*?)\n(?P=indent)```",
                    re.DOTALL)
CONSOLE_BLOCK = re.compile(r"^[ \t]*```console\n", re.MULTILINE)

# What changes between runs: remote ids, elapsed times, process ids, ports.
_VARYING = [
    (re.compile(r"\b(asst|vs|file|vsfb|batch|lock)([_-])[A-Za-z0-9]{8,}"), r"\1\2…"),
    (re.compile(r"\b\d+(\.\d+)? ?(s|ms)\b"), "N s"),
    (re.compile(r"\bpid \d+"), "pid N"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
]


@dataclass(frozen=True)
class Shown:
    """One command and its output as a page shows them."""

    page: str  # relative to the repository
    command: str  # without the leading "$ "
    output: str  # without the command line


def pages() -> list[Path]:
    """Every page that may show outputs: the docs site and the README, its front page."""
    site = sorted((ROOT / "docs").rglob("*.md")) if (ROOT / "docs").is_dir() else []
    return [ROOT / "README.md", *site]


@cache
def shown_outputs() -> dict[str, Shown]:
    """Every named output of every page (a name used twice is an error)."""
    found: dict[str, Shown] = {}
    for page in pages():
        text = page.read_text(encoding="utf-8")
        for match in MARKER.finditer(text):
            name, indent, body = match.group(1), match.group("indent"), match.group("body")
            lines = [line[len(indent):] if line.startswith(indent) else line for line in body.split("\n")]
            if not lines or not lines[0].startswith("$ "):
                raise AssertionError(f"{page.relative_to(ROOT)}: output {name!r} does not start with '$ command'")
            if name in found:
                raise AssertionError(f"output {name!r} is named twice ({found[name].page}, {page.relative_to(ROOT)})")
            found[name] = Shown(str(page.relative_to(ROOT)), lines[0][2:], "\n".join(lines[1:]))
    return found


def unnamed_blocks() -> list[str]:
    """"page:line" of each console block no output comment names."""
    unnamed = []
    for page in pages():
        text = page.read_text(encoding="utf-8")
        named = {match.start("indent") for match in MARKER.finditer(text)}
        for block in CONSOLE_BLOCK.finditer(text):
            if block.start() not in named:
                unnamed.append(f"{page.relative_to(ROOT)}:{text.count(chr(10), 0, block.start()) + 1}")
    return unnamed


def shown(name: str) -> Shown:
    """The output a page shows under `name`."""
    outputs = shown_outputs()
    if name not in outputs:
        raise AssertionError(f"no page shows an output named {name!r}")
    return outputs[name]


def normalised(text: str, extra: Iterable[tuple[str, str]] = ()) -> str:
    """`text` with what varies between runs masked, trailing spaces and ANSI colours dropped."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    for pattern, replacement in [*_VARYING, *((re.compile(p), r) for p, r in extra)]:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def check_shown(name: str, output: str, *, command: str | None = None,
                extra: Iterable[tuple[str, str]] = ()) -> None:
    """Fail unless `output` (what the tool printed) is what the page shows under `name`.

    `command`, when given, must be the command the page shows (so the test ran what the reader will).
    `extra` adds (regex, replacement) masks for what else varies in this output."""
    expected = shown(name)
    if command is not None and command != expected.command:
        raise AssertionError(f"{expected.page}: {name!r} shows `{expected.command}`, the test ran `{command}`")
    want, got = normalised(expected.output, extra), normalised(output, extra)
    if want != got:
        diff = "\n".join(difflib.unified_diff(want.split("\n"), got.split("\n"), "shown in " + expected.page,
                                              "printed by the tool", lineterm=""))
        raise AssertionError(f"{expected.page}: output {name!r} differs from the tool's:\n{diff}")
