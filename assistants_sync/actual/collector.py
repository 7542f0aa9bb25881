"""Python's garbage collector, paused while a listing is in flight.

A listing of thousands of objects makes millions of small containers (parsed pages,
normalised forms) in several threads at once; none of them is garbage, but the collector
walks them over and over (tens of milliseconds a time at 10,000 assistants), holding the
GIL while pages wait to be parsed, and each pause holds up the page that arrives during
it. So while a listing is in flight the collector is disabled, and when the last listing
ends, every object it tracks goes into its oldest generation in one step, as surviving
collections would have taken it: the listing's objects outlive it (they are the plan),
and otherwise the first young collection afterwards would walk all of them, which the
caller would pay. BENCHMARKS.md, "The garbage collector while a listing is in flight",
compares the options.

Memory is unaffected: a plan makes little cyclic garbage (about 1,800 objects for 2,000
assistants, 500 agents and 3 stores), and it is collected in the next full collection, as
any old object's. Objects someone froze (`gc.freeze`, as before a fork) are left frozen:
then nothing is moved, and the next young collection walks the listing's objects.

The collector's state is the process's: it is paused while at least one listing is in
flight and enabled again, if it was, when the last ends (`process_settings`).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from contextlib import AbstractContextManager

from .process_settings import WhileListing


def _paused() -> bool:
    """The collector paused; whether it was enabled."""
    enabled = gc.isenabled()
    gc.disable()
    return enabled


def _running_as_before(was_enabled: bool) -> None:
    _into_the_oldest_generation()
    if was_enabled:
        gc.enable()


def _into_the_oldest_generation() -> None:
    """Every object the collector tracks goes into its oldest generation, in one step. Not done while anything is
    frozen: unfreezing would thaw that too."""
    if gc.get_freeze_count() == 0:
        gc.freeze()  # moves the tracked objects of every generation to the permanent one, in one step
        gc.unfreeze()  # and back into the oldest generation, in one step


# While inside, the collector does not run; then its tracked objects are old, and it is as it was.
collecting_less: Callable[[], AbstractContextManager[None]] = WhileListing(_paused, _running_as_before).held
