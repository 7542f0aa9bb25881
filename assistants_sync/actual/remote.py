"""Remote API (list) -> actual state: the objects of every kind this stack owns, normalised.

Every registered kind is listed. An endpoint may not serve every kind: a kind whose
list path answers 404 is skipped (`ActualState.unserved`), never taken to be empty,
so nothing of it is ever planned for deletion; a kind the manifests use must be
served (`UnservedKindError`). An endpoint serving none of the kinds is an endpoint
of another API, or a wrong base URL: its first 404 is raised as it is.
"""

from __future__ import annotations

import hashlib
import json
import operator
import queue
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Protocol

from ..errors import ApiError, BadResponseError, UnservedKindError
from .collector import collecting_less
from .retry import ListingCancelled
from .turns import Turns, switching_often
from ..kinds import kinds
from ..kinds.base import DEFAULT_KIND, Canonical, KeyOf, Kind, ObjectListing
from ..ownership import KeysAsked, KindStillListed, answers_hold, is_lock_object, made_with_keys, owner_of


class Endpointed(Protocol):
    @property
    def identity(self) -> str: ...
    @property
    def display_url(self) -> str: ...


class ObjectLister(ObjectListing, Protocol):
    """A client's listing, and the endpoint it reaches."""

    @property
    def endpoint(self) -> Endpointed: ...


@dataclass(frozen=True)
class RemoteObject:
    """A remote object: its kind, identity, owner key (None if unowned) and canonical form."""

    id: str
    key: str | None
    created_at: int
    canonical: Canonical
    kind: str = DEFAULT_KIND
    version: str | None = None  # the version it is at, for a versioned kind
    # What `ActualState.fingerprint` hashes for it, made as its page arrived: (the canonical form it was made
    # from, the record). Used only while that is still `canonical`.
    record: tuple[Canonical, bytes] | None = field(default=None, compare=False, repr=False)

    def fingerprint_record(self) -> bytes:
        """The bytes of this object in `ActualState.fingerprint`."""
        if self.record is not None and self.record[0] is self.canonical:
            return self.record[1]
        return _record(self.id, self.key, self.canonical, self.kind)


def _record(object_id: str, key: str | None, canonical: Canonical, kind: str) -> bytes:
    # The default kind's records are those of format_version 1, whose saved plans stay valid.
    record = [object_id, key or "", canonical.as_dict()]
    if kind != DEFAULT_KIND:
        record.insert(0, kind)
    return _RECORD_JSON.encode(record).encode()


def _kept_record(object_id: str, key: str | None, canonical: Canonical, kind: str) -> bytes | None:
    """The record of an object as its page arrives, to keep until the fingerprint: None for a large object (its
    record is made again then), so that a listing of large objects is not held twice in memory."""
    record = _record(object_id, key, canonical, kind)
    return record if len(record) <= RECORD_KEPT_AT_MOST else None


RECORD_KEPT_AT_MOST = 4096  # bytes: most objects' records; 5,000 assistants of 10 KB would keep 50 MB more
_BY_ID = operator.attrgetter("id")
_RECORD_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))  # json.dumps' own, made once


RemoteAssistant = RemoteObject  # its name before the engine knew other kinds


@dataclass(frozen=True)
class ActualState:
    """What the endpoint holds, as far as `stack` is concerned.

    `managed` are the objects this stack owns, in the server's (oldest-first) order;
    `unowned` carry no ownership tag (candidates for adopt); `foreign` maps the ids of
    other stacks' objects to their stack, so adopt can refuse them by name.
    `unserved` names the kinds the endpoint does not serve (nothing of them was listed).
    """

    stack: str
    managed: tuple[RemoteObject, ...]
    unowned: tuple[RemoteObject, ...] = ()
    foreign: Mapping[str, str] = field(default_factory=dict)
    unserved: frozenset[str] = frozenset()

    def fingerprint(self, also: Iterable[str] = ()) -> str:
        """Changes whenever a managed object (or one of the `also` ids) is added, removed or edited."""
        wanted = set(also)
        chosen = sorted((*self.managed, *(a for a in self.unowned if a.id in wanted)), key=_BY_ID)
        digest = hashlib.sha256()
        for remote in chosen:  # one record at a time: no 50 MB string for 5,000 large objects
            digest.update(remote.fingerprint_record())
        return "sha256:" + digest.hexdigest()

    def limited_to(self, keys: Collection[str]) -> ActualState:
        """The same state with only the managed objects of `keys` (unowned and foreign ones kept)."""
        return replace(self, managed=tuple(a for a in self.managed if a.key in keys))

    def managed_of(self, kind: str) -> tuple[RemoteObject, ...]:
        return self._by_kind.get(kind, ())

    @cached_property
    def _by_kind(self) -> dict[str, tuple[RemoteObject, ...]]:
        grouped: dict[str, list[RemoteObject]] = {}
        for remote in self.managed:
            grouped.setdefault(remote.kind, []).append(remote)
        return {kind: tuple(of_kind) for kind, of_kind in grouped.items()}

    @cached_property
    def _keys(self) -> dict[tuple[str, str], str]:
        return {(r.kind, r.id): r.key for r in self.managed if r.key is not None}

    @cached_property
    def _oldest(self) -> dict[tuple[str, str | None], RemoteObject]:
        oldest: dict[tuple[str, str | None], RemoteObject] = {}
        for remote in self.managed:  # oldest first: the first of a key is kept
            oldest.setdefault((remote.kind, remote.key), remote)
        return oldest

    def key_of(self, kind: str, object_id: str) -> str | None:
        """The key of the stack's object of `kind` with `object_id`, if it manages one."""
        return self._keys.get((kind, object_id))

    def id_of(self, kind: str, key: str) -> str | None:
        """The id of the stack's (oldest) object of `kind` under `key`, if any."""
        oldest = self.oldest(kind, key)
        return oldest.id if oldest is not None else None

    def oldest(self, kind: str, key: str) -> RemoteObject | None:
        """The stack's oldest object of `kind` under `key` (the one a plan keeps), if any."""
        return self._oldest.get((kind, key))


def actual_state(objects: Iterable[Mapping[str, Any]], stack: str, kind: Kind | None = None,
                 key_of: KeyOf | None = None, *,
                 normalised: Mapping[int, _Made] | None = None) -> ActualState:
    """Sort `objects` (API objects of `kind`, default the default kind) into this stack's, unowned and others'.

    Lock objects (of any stack) are none of these: they are left out altogether. With
    `key_of`, the ids of the stack's objects that an object names are written as keys.
    `normalised` holds canonical forms made already (as pages arrived), by `id()` of the object.
    """
    if kind is None:
        from ..kinds import get_kind

        kind = get_kind(DEFAULT_KIND)
    managed: list[RemoteObject] = []
    unowned: list[RemoteObject] = []
    foreign: dict[str, str] = {}
    for obj in objects:
        made = normalised.get(id(obj)) if normalised else None
        if made is not None and made[0] is obj:  # neither a lock object nor another stack's: its page said so
            keyed = made[4]
            if key_of is not None and keyed is not None and answers_hold(keyed[1], key_of):
                (managed if made[3] is not None else unowned).append(keyed[0])  # made as its kinds were listed
                continue
            owner = (stack, made[3]) if made[3] is not None else None
        else:
            made = None
            if is_lock_object(obj.get("metadata")):
                continue
            owner = owner_of(obj.get("metadata"))
            if owner is not None and owner[0] != stack:
                foreign[str(obj["id"])] = owner[0]
                continue
        try:
            canonical = made[1] if made is not None else kind.normalise(obj)
            remote = _remote_object(obj, kind, owner[1] if owner else None,
                                    kind.in_keys(canonical, key_of) if key_of is not None else canonical,
                                    (made[1], made[2]) if made is not None and made[2] is not None else None)
        except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as exc:  # (int(1e999))
            raise BadResponseError(
                f"the server listed {kind.noun} {obj.get('id')!r} with a malformed field ({type(exc).__name__}: "
                f"{exc}); refusing to plan from an answer that is not the API"
            ) from exc
        (managed if owner else unowned).append(remote)
    return ActualState(stack=stack, managed=tuple(managed), unowned=tuple(unowned), foreign=foreign)


def _remote_object(obj: Mapping[str, Any], kind: Kind, key: str | None, canonical: Canonical,
                   record: tuple[Canonical, bytes] | None) -> RemoteObject:
    """A listed object as the state holds it: its form `canonical` (the stack's ids in it written as keys)."""
    return RemoteObject(id=str(obj["id"]), key=key, created_at=int(obj.get("created_at") or 0), canonical=canonical,
                        kind=kind.name, version=kind.version_of(obj), record=record)


def _read_whole(obj: Mapping[str, Any], stack: str, unowned_read: Collection[str] | None) -> bool:
    """Whether a listed object's content is read: the stack's own, and the unowned ones named (None: all)."""
    metadata = obj.get("metadata")
    if is_lock_object(metadata):
        return False
    owner = owner_of(metadata)
    if owner is not None:
        return owner[0] == stack
    return unowned_read is None or obj.get("id") in unowned_read


def stack_keys(listed: Iterable[tuple[Kind, list[dict[str, Any]]]], stack: str) -> dict[tuple[str, str], str]:
    """(kind, id) -> key of every object `stack` owns among the listed ones."""
    keys: dict[tuple[str, str], str] = {}
    for kind, objects in listed:
        for obj in objects:
            owner = owner_of(obj.get("metadata"))
            if owner is not None and owner[0] == stack and not is_lock_object(obj.get("metadata")):
                keys[(kind.name, str(obj["id"]))] = owner[1]
    return keys


def fetch_actual(client: ObjectLister, stack: str, *, wanted: Collection[str] = (),
                 unowned_read: Collection[str] | None = (), parallelism: int | None = None) -> ActualState:
    """List every kind once (paginated, the kinds at once: `ListingInFlight`) and sort what the endpoint holds.

    `wanted` names the kinds the manifests use: those must be served. The content a
    listing leaves out (a vector store's files) is read for the stack's own objects and
    for the unowned ones `unowned_read` names (those an adopt takes over; None: all, for
    an export), never for another stack's. Every kind is
    listed before any object is compared: an object naming another of the stack (by id)
    is compared by that object's key. `parallelism`: at most that many kinds listed at
    once (default: all).
    """
    with ListingInFlight(client, stack, unowned_read=unowned_read, parallelism=parallelism) as listing:
        return listing.state(wanted=wanted)


_PAGE, _DONE, _FAILED = "page", "done", "failed"
# A listed object normalised as its page arrived (or its kind was in): (the object, its form before `in_keys`, its
# fingerprint record and key if the stack owns it, and, once the kinds it names were listed, the object as the
# state holds it (its form after `in_keys`) with the keys that used).
_Made = tuple[Mapping[str, Any], Canonical, bytes | None, str | None, tuple[RemoteObject, KeysAsked] | None]
# Told of the stack's own objects while the listing is in flight, as soon as their forms are known (as the
# listing's state will hold them), and the keys of the stack's objects listed so far (a `KeyOf` raising
# KindStillListed of a kind still listed): per-object work of a plan that need not wait for the last page.
PageSeen = Callable[[Kind, list[RemoteObject], KeyOf], None]


class _KeysSoFar:
    """The keys of the stack's objects of the kinds whose listing is in, as a `KeyOf` that raises KindStillListed
    when asked of another kind: what it answers, the whole listing's keys answer alike."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], str] = {}
        self._listed: set[str] = set()

    @property
    def keys(self) -> Mapping[tuple[str, str], str]:
        """(kind, id) -> key of the stack's objects of the kinds listed so far (`stack_keys`)."""
        return self._keys

    def add(self, kind: str, keys: Mapping[tuple[str, str], str]) -> None:
        self._keys.update(keys)
        self._listed.add(kind)

    def key_of(self, kind: str, object_id: str) -> str | None:
        if kind not in self._listed:
            raise KindStillListed(kind)
        return self._keys.get((kind, object_id))


class ListingInFlight:
    """The listings of every kind, in flight at once (one thread each), from `start` on.

    The kinds do not depend on each other, so each is listed in a thread of its own
    while the caller does something else (loads the manifests); the pages of a kind
    still follow one another (each needs the last id of the one before). `state` waits
    for them, normalising each page while the next is in flight, and sorts what they
    hold in the fixed order of the kinds: the result, and the error raised when a
    listing fails (the first kind's, in that order), are those of listing the kinds one
    after the other. `cancel` (also on leaving the `with` block by an exception) stops
    every listing before its next request: no page is asked for once it is set. Inside
    the `with` block the garbage collector runs less often (`collector`).
    """

    def __init__(self, client: ObjectLister, stack: str, *, unowned_read: Collection[str] | None = (),
                 parallelism: int | None = None) -> None:
        self._client = client
        self._stack = stack
        self._unowned_read = unowned_read
        self._kinds = list(kinds())
        # At most `parallelism` kinds in flight at once, started in their order (1: one after the other).
        self._at_once = max(1, parallelism) if parallelism is not None else len(self._kinds)
        self._finished = [threading.Event() for _ in self._kinds]
        # Set once the first kind's first page has come back (or its listing ended): the other kinds wait for
        # it, so that an endpoint refusing the run (a wrong key, base URL or header) is sent one request.
        self._answered = threading.Event()
        self._cancelled = threading.Event()
        self._events: queue.SimpleQueue[tuple[int, str, Any]] = queue.SimpleQueue()
        self._started = False
        self._turns = Turns()
        self._collecting_less = collecting_less()
        self._switching_often = switching_often()

    def __enter__(self) -> ListingInFlight:
        # Inside the block, the collector runs less often (`collector`): the pages' objects are made in threads;
        # and the GIL changes hands often (`turns`): an answer that has arrived is not kept waiting.
        self._collecting_less.__enter__()
        self._switching_often.__enter__()
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.cancel()  # nothing more to ask for, whether the listing was used or abandoned
        self._switching_often.__exit__(None, None, None)
        self._collecting_less.__exit__(None, None, None)

    def give_way(self) -> None:
        """Called by the thread waiting for the listing between small steps of its own work (`Turns.give_way`):
        a listing thread handling an answer goes first."""
        self._turns.give_way()

    def start(self) -> ListingInFlight:
        """Send the first page request of every kind, each from a thread of its own."""
        if not self._started:
            self._started = True
            for index, kind in enumerate(self._kinds):
                # Daemon threads: a cancelled listing's request still in flight never holds up the exit.
                threading.Thread(target=self._list, args=(index, kind), daemon=True,
                                 name=f"assistants-sync: listing {kind.plural}").start()
        return self

    def cancel(self) -> None:
        """Request no further page (nor retry) of any kind; what is in flight is abandoned."""
        self._cancelled.set()

    def _list(self, index: int, kind: Kind) -> None:
        """One kind's listing (in its own thread): each page, then every object with its content, as events."""
        try:
            if index > 0:
                self._answered.wait()
            if index >= self._at_once:  # its turn: when the kind `parallelism` places before it is listed
                self._finished[index - self._at_once].wait()
            # A page is the kind's own listing only when the kind lists the collection as it is (Kind.list) and
            # reads nothing more into its objects (Kind.read_content): then its objects are normalised as they
            # arrive, else once the kind has listed them (as the state will hold them, and once).
            pages = type(kind).list is Kind.list and type(kind).read_content is Kind.read_content

            def on_page(page: list[dict[str, Any]]) -> None:
                self._events.put((index, _PAGE, page))

            listed = kind.list(_PagedListing(self._client, self._cancelled, on_page if pages else None,
                                             on_arrival=self._answered.set if index == 0 else None,
                                             turns=self._turns))
            reader = _PagedListing(self._client, self._cancelled, turns=self._turns)
            objects = [kind.read_content(reader, obj) if _read_whole(obj, self._stack, self._unowned_read) else obj
                       for obj in listed]
            self._events.put((index, _DONE, objects))
        except BaseException as exc:  # noqa: BLE001 - raised by `state`, in the thread that waits
            if index == 0 and not _is_unserved(exc):
                self.cancel()  # the first kind's failure is the one raised: the others need not be asked
            self._events.put((index, _FAILED, exc))
        finally:
            self._finished[index].set()
            if index == 0:
                self._answered.set()

    def state(self, *, wanted: Collection[str] = (), also_read: Collection[str] = (),
              each_page: PageSeen | None = None) -> ActualState:
        """Wait for every listing and sort what the endpoint holds, as `fetch_actual` (`wanted`: kinds that must be
        served). `also_read`: ids of unowned objects whose content is read too (those an adopt takes over, known
        only once the manifests are loaded). `each_page` is told of the stack's objects page by page."""
        self.start()
        count = len(self._kinds)
        listed: list[list[dict[str, Any]] | None] = [None] * count
        failures: dict[int, BaseException] = {}
        normalised: list[dict[int, _Made]] = [{} for _ in range(count)]
        keys_so_far = _KeysSoFar()
        waiting: list[tuple[int, int]] = []  # (kind, object) of those naming a kind still listed: keyed later

        def key_page(index: int, objects: Iterable[int]) -> None:
            kind = self._kinds[index]
            told: list[RemoteObject] = []
            for object_id in objects:
                self.give_way()
                made = normalised[index][object_id]
                try:
                    form, asked = made_with_keys(lambda key_of: kind.in_keys(made[1], key_of), keys_so_far.key_of)
                    # The fingerprint hashes the form as the state holds it: a form naming the stack's objects is
                    # hashed again, now rather than after the last page.
                    record = (made[2] if form is made[1] or made[3] is None
                              else _kept_record(str(made[0]["id"]), made[3], form, kind.name))
                    remote = _remote_object(made[0], kind, made[3], form, (form, record) if record else None)
                except KindStillListed:
                    waiting.append((index, object_id))
                    continue
                except Exception:  # noqa: BLE001 - actual_state meets it again and says what is wrong, in order
                    continue
                normalised[index][object_id] = (*made[:4], (remote, asked))
                if made[3] is not None:
                    told.append(remote)
            if each_page is not None and told:
                each_page(kind, told, keys_so_far.key_of)

        # The keys of the stack's objects each kind's pages brought, gathered as they came in, and how many objects.
        paged_keys: list[dict[tuple[str, str], str]] = [{} for _ in range(count)]
        paged = [0] * count

        def kind_listed(index: int, keys: Mapping[tuple[str, str], str]) -> None:
            kind = self._kinds[index]
            keys_so_far.add(kind.name, keys)
            again = waiting[:]
            waiting.clear()
            for waiting_index in sorted({i for i, _ in again}):
                key_page(waiting_index, [o for i, o in again if i == waiting_index])

        pending = set(range(count))
        while pending:
            failed = [i for i, exc in failures.items() if not _is_unserved(exc)]
            if failed and pending.isdisjoint(range(min(failed))):
                break  # the first kind to fail, in order, is known: the kinds after it do not matter
            index, what, value = self._events.get()
            kind = self._kinds[index]
            if what == _PAGE:
                made = dict(_normalised(kind, value, self._stack, self.give_way))
                normalised[index].update(made)
                key_page(index, made)
                paged_keys[index].update(stack_keys([(kind, value)], self._stack))
                paged[index] += len(value)
                continue
            pending.discard(index)
            if what == _DONE:
                listed[index] = value
                if paged[index] == len(value):  # every object came by its page: normalised, keys gathered
                    kind_listed(index, paged_keys[index])
                    continue
                # What no page brought (a kind listing through its own calls, or reading content into its
                # objects) is normalised now, while the other kinds may still be listed.
                made = dict(_normalised(kind, _not_in(value, normalised[index]), self._stack, self.give_way))
                normalised[index].update(made)
                key_page(index, made)
                kind_listed(index, stack_keys([(kind, value)], self._stack))
            else:
                failures[index] = value
                if _is_unserved(value):
                    kind_listed(index, {})
        listings: list[tuple[Kind, list[dict[str, Any]]]] = []
        pages: list[dict[int, _Made]] = []
        unserved: dict[str, ApiError] = {}
        for index, kind in enumerate(self._kinds):
            failure = failures.get(index)
            if failure is not None:
                if not _is_unserved(failure):
                    self.cancel()
                    raise failure
                assert isinstance(failure, ApiError)
                unserved[kind.name] = failure
                continue
            objects = listed[index]
            assert objects is not None
            if also_read:
                try:
                    objects = [kind.read_content(self._client, obj)
                               if not _read_whole(obj, self._stack, self._unowned_read)
                               and _read_whole(obj, self._stack, also_read) else obj for obj in objects]
                except ApiError as exc:  # as a failure of the kind's own listing would be
                    if not _is_unserved(exc):
                        raise
                    unserved[kind.name] = exc
                    continue
            listings.append((kind, objects))
            pages.append(normalised[index])
        listed_kinds = {kind.name for kind, _ in listings}
        keys = keys_so_far.keys  # but not of a kind found unserved only now (reading an adopted object's content)
        if any(kind not in listed_kinds for kind, _ in keys):
            keys = {(kind, object_id): key for (kind, object_id), key in keys.items() if kind in listed_kinds}
        return _sorted_state(self._client, self._stack, listings, pages, unserved, wanted, keys)


def _is_unserved(exc: BaseException) -> bool:
    """A listing that failed because the endpoint does not serve the kind (HTTP 404): the kind is skipped."""
    return isinstance(exc, ApiError) and exc.status == 404


class _PagedListing:
    """The client, as a kind lists through it: each page goes to `on_page` once the next page's request is out
    (or the listing is over), and no page is asked for once `cancelled` is set. Anything else is the client's.
    From each answer's arrival until the next request is out (or the listing is over), this thread has a turn
    in `turns`: the thread waiting for the listing gives way to it."""

    def __init__(self, client: ObjectLister, cancelled: threading.Event,
                 on_page: Callable[[list[dict[str, Any]]], None] | None = None, *,
                 on_arrival: Callable[[], None] | None = None, turns: Turns | None = None) -> None:
        self._client = client
        self._cancelled = cancelled
        self._on_page = on_page
        self._on_arrival = on_arrival  # called as soon as a page has come back
        self._held: list[list[dict[str, Any]]] = []  # pages not yet handed on: the next request is not out yet
        self._turns = turns

    def answered(self) -> None:
        """(`RequestWatch`) An answer has arrived: this thread's turn, until its next request is out."""
        if self._turns is not None:
            self._turns.answered(self)

    def sent(self) -> None:
        """(`RequestWatch`) The next page's request is on the wire: whoever normalises the pages held now takes
        the GIL while this thread only waits, instead of holding up the request."""
        self._hand_on()
        if self._turns is not None:
            self._turns.sent(self)

    def _hand_on(self) -> None:
        while self._held:
            page = self._held.pop(0)
            if self._on_page is not None:
                self._on_page(page)

    def list_objects(self, path: str, noun: str, *, beta: str | None = None,
                     params: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        options: dict[str, Any] = {"params": params} if beta is None else {"params": params, "beta": beta}
        list_pages = getattr(self._client, "list_pages", None)
        if list_pages is None:  # a lister without pages (a test's): its listing is one page
            if self._cancelled.is_set():
                raise ListingCancelled(f"listing {noun}: not sent, the listing was cancelled")
            pages: Iterable[list[dict[str, Any]]] = [self._client.list_objects(path, noun, **options)]
        else:
            pages = list_pages(path, noun, cancelled=self._cancelled, watch=self, **options)
        objects: list[dict[str, Any]] = []
        try:
            for page in pages:
                objects.extend(page)
                self._held.append(page)
                if self._on_arrival is not None:
                    self._on_arrival()
        finally:
            self._hand_on()  # the listing is over (or failed)
            if self._turns is not None:
                self._turns.finished(self)
        return objects

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _not_in(objects: list[dict[str, Any]], normalised: Mapping[int, _Made]) -> list[dict[str, Any]]:
    """The objects of a listing that no page brought: not normalised yet."""
    return [obj for obj in objects if (made := normalised.get(id(obj))) is None or made[0] is not obj]


def _normalised(kind: Kind, page: list[dict[str, Any]], stack: str,
                between: Callable[[], None]) -> Iterator[tuple[int, _Made]]:
    """The canonical form of each object of a page that `actual_state` will normalise (the stack's and unowned
    ones), by `id()` (with the object, to tell it is that one); an object that cannot be normalised is left for
    `actual_state`, which raises its error in listing order. `between` is called before each object."""
    for obj in page:
        between()
        metadata = obj.get("metadata")
        if is_lock_object(metadata):
            continue
        owner = owner_of(metadata)
        if owner is not None and owner[0] != stack:
            continue
        try:
            canonical = kind.normalise(obj)
            # Only the stack's own objects are hashed in every fingerprint (unowned ones when adopted).
            record = _kept_record(str(obj["id"]), owner[1], canonical, kind.name) if owner is not None else None
        except Exception:  # noqa: BLE001 - actual_state meets it again and says what is wrong
            continue
        yield id(obj), (obj, canonical, record, owner[1] if owner is not None else None, None)


def _sorted_state(client: ObjectLister, stack: str, listings: list[tuple[Kind, list[dict[str, Any]]]],
                  normalised: list[dict[int, _Made]], unserved: dict[str, ApiError],
                  wanted: Collection[str], keys: Mapping[tuple[str, str], str]) -> ActualState:
    """What every kind's listing holds, sorted for `stack` (kinds in their order), once all are listed; `keys`
    are those of the stack's objects among them (`stack_keys`, gathered kind by kind as each was listed)."""
    states = [actual_state(listed, stack, kind, key_of=lambda k, i: keys.get((k, i)), normalised=pages)
              for (kind, listed), pages in zip(listings, normalised)]
    missing = sorted(set(wanted) & unserved.keys())
    if missing:
        from ..kinds import get_kind

        kind = get_kind(missing[0])
        hint = unserved[kind.name].hint
        why = (f"listing them (GET {kind.path}) answered HTTP 404" if unserved[kind.name].sent
               else unserved[kind.name].api_message)
        raise UnservedKindError(
            f"{client.endpoint.display_url} does not serve {kind.plural}: {why}, and the manifests hold "
            f"{kind.plural} (kind: {kind.name}); nothing was changed. Plan them "
            f"against an endpoint that serves {kind.plural}, or check the endpoint.{' ' + hint if hint else ''}"
        )
    if not states:  # no kind at all: not an endpoint of this API (a wrong base URL?)
        raise next(iter(unserved.values()))
    return ActualState(
        stack=stack,
        managed=tuple(a for s in states for a in s.managed),
        unowned=tuple(a for s in states for a in s.unowned),
        foreign={i: o for s in states for i, o in s.foreign.items()},
        unserved=frozenset(unserved),
    )
