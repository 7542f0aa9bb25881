"""The listing goes first: the calling thread gives way to a listing thread handling an answer or about to, and
the switch interval is short while a listing is in flight."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from assistants_sync.actual import turns
from assistants_sync.actual.turns import LISTING_SWITCH_INTERVAL, Turns, switching_often


# The interpreter keeps the interval in whole microseconds: compared within 5 %.


@pytest.fixture(autouse=True)
def switch_interval() -> Iterator[None]:
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


def _giving_way(given: Turns) -> threading.Thread:
    thread = threading.Thread(target=given.give_way, daemon=True)
    thread.start()
    return thread


def _still_waiting(thread: threading.Thread) -> bool:
    thread.join(0.2)
    return thread.is_alive()


def _gone_on(thread: threading.Thread) -> bool:
    thread.join(30)
    return not thread.is_alive()


@pytest.fixture
def patient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waits that only end when the listing says so (or at a bound far away)."""
    monkeypatch.setattr(turns, "GIVE_WAY_AT_MOST", 60.0)
    monkeypatch.setattr(turns, "LATE_AT_MOST", 60.0)


LISTING, OTHER = object(), object()


def test_with_no_answer_in_hand_nor_due_the_caller_goes_on_at_once(patient: None) -> None:
    given = Turns()
    given.sent(LISTING)  # its first request: how long an answer takes is not known yet
    thread = _giving_way(given)
    assert _gone_on(thread)


def test_the_caller_waits_while_listing_threads_handle_answers_and_goes_on_when_they_are_done(patient: None) -> None:
    given = Turns()
    given.answered(LISTING)
    given.answered(OTHER)  # two kinds' listings, each with an answer in hand
    thread = _giving_way(given)
    assert _still_waiting(thread)
    given.finished(LISTING)
    assert _still_waiting(thread), "one listing thread still handles its answer"
    given.finished(OTHER)
    assert _gone_on(thread)


def test_the_caller_waits_for_an_answer_due_until_it_has_been_handled(patient: None) -> None:
    given = Turns()
    given.sent(LISTING)
    given.answered(LISTING)  # at once: the next answer is due as soon as its request is out
    given.sent(LISTING)
    thread = _giving_way(given)
    assert _still_waiting(thread), "the answer is due: the caller waits for it"
    given.answered(LISTING)
    assert _still_waiting(thread), "and while it is handled"
    given.finished(LISTING)
    assert _gone_on(thread)


def test_a_late_answer_is_waited_for_at_most_the_bound_and_then_not_again(
    patient: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = Turns()
    given.sent(LISTING)
    given.answered(LISTING)
    given.sent(LISTING)
    monkeypatch.setattr(turns, "LATE_AT_MOST", 0.01)
    first = _giving_way(given)
    assert _gone_on(first)
    monkeypatch.setattr(turns, "LATE_AT_MOST", 60.0)
    again = _giving_way(given)  # the same answer, still late: not waited for again
    assert _gone_on(again)


def test_the_caller_never_waits_longer_than_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(turns, "GIVE_WAY_AT_MOST", 0.01)
    given = Turns()
    given.answered(LISTING)  # and never finished: a listing thread stuck (a bug) must not stall the plan
    thread = _giving_way(given)
    assert _gone_on(thread)


def test_inside_the_switch_interval_is_short_and_after_it_is_as_before() -> None:
    sys.setswitchinterval(0.005)
    with switching_often():
        assert sys.getswitchinterval() == pytest.approx(LISTING_SWITCH_INTERVAL, rel=0.05)
    assert sys.getswitchinterval() == pytest.approx(0.005, rel=0.05)


def test_an_interval_already_shorter_is_left_alone() -> None:
    sys.setswitchinterval(LISTING_SWITCH_INTERVAL / 5)
    with switching_often():
        assert sys.getswitchinterval() == pytest.approx(LISTING_SWITCH_INTERVAL / 5, rel=0.05)
    assert sys.getswitchinterval() == pytest.approx(LISTING_SWITCH_INTERVAL / 5, rel=0.05)
