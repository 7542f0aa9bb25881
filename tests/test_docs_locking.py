"""docs/concepts/locking.md: the output it shows is what a locked apply prints."""

from __future__ import annotations

from pathlib import Path

from assistants_sync.applying.lock import acquire
from assistants_sync.emulator import EmulatorServer

from .docs_outputs import check_shown
from .test_docs_site import applied, here, ran
from .test_lock import lock_objects

__all__ = ["applied", "here"]  # fixtures

SINCE = (r"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "since DATE")
LOCK_ID = (r"\b[0-9a-f]{32}\b", "LOCK_ID")


def test_an_apply_of_a_locked_stack_names_the_holder(applied: Path, env: EmulatorServer) -> None:
    acquire(lock_objects(env), "default", who="alice@vm pid 28895", lease=30)
    check_shown("lock-held", **ran("assistants-sync apply specs --auto-approve", extra=[SINCE, LOCK_ID]))
