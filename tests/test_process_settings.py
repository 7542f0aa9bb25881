"""A setting of the whole process held while any listing is in flight: changed when the first starts, put back
when the last ends, even when a listing fails."""

from __future__ import annotations

import threading

import pytest

from assistants_sync.actual.process_settings import WhileListing


class Setting:
    """A process setting as the listings see it: its value now, and every change made to it."""

    def __init__(self) -> None:
        self.value = "as the user left it"
        self.changes: list[str] = []

    def change(self) -> str:
        before, self.value = self.value, "while listing"
        self.changes.append(self.value)
        return before

    def put_back(self, saved: str) -> None:
        self.value = saved
        self.changes.append(saved)


def test_inside_the_setting_is_changed_and_after_it_is_put_back() -> None:
    setting = Setting()
    held = WhileListing(setting.change, setting.put_back).held
    with held():
        assert setting.value == "while listing"
    assert setting.value == "as the user left it"
    with held():  # and again for the next listing
        assert setting.value == "while listing"
    assert setting.changes == ["while listing", "as the user left it"] * 2


def test_it_is_put_back_when_the_listing_fails() -> None:
    setting = Setting()
    with pytest.raises(KeyError), WhileListing(setting.change, setting.put_back).held():
        raise KeyError("a listing failed")
    assert setting.value == "as the user left it"


def test_overlapping_listings_change_it_once_and_put_it_back_when_the_last_ends() -> None:
    setting = Setting()
    held = WhileListing(setting.change, setting.put_back).held
    first_in, second_out = threading.Event(), threading.Event()
    during_the_second: list[str] = []

    def second_listing() -> None:
        assert first_in.wait(30)
        with held():
            during_the_second.append(setting.value)
        second_out.set()

    thread = threading.Thread(target=second_listing)
    thread.start()
    with held():
        first_in.set()
        assert second_out.wait(30)
        # The second ended first: the first is still in flight, so the setting holds.
        assert setting.value == "while listing"
    thread.join(30)
    assert during_the_second == ["while listing"]
    assert setting.value == "as the user left it"
    assert setting.changes == ["while listing", "as the user left it"]  # not saved again from the changed value
