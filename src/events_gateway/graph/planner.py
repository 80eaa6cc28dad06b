"""What to fetch this round: the children lists a level asks for, grouped into batches with what the
request already knows of their sizes, and the levels that can be read ahead, by type alone, before their
parents arrive. How to fetch a batch is the batching strategy's business (``batching.py``), and how to
page through a list the engine's (``upstream.paging``).

A round holds the keys the resolvers of one level asked for in the same event-loop tick, grouped by spec,
each parent with the ``children_count`` its own level brought (``Planner.children``).

**Reading ahead** (``TreePlan``). When a level's parents are a complete set (every category of the
workspace, or every event of every category), their children are exactly every object of the children's
kind: one list by type alone (``type = event``, no ``parent_id in [...]``), which can be asked for in the
same round as the parents and grouped by parent, instead of waiting for the parents' ids. The operation
says which levels it will ask for (``selection.py``) when the top-level list starts; whether the parents
will be complete follows from counts:

- depth 1 (the children of the top-level list's objects) is complete when the list is unfiltered and
  its window covers it whole: the list's count, from its page 1 or remembered, is at most ``first``;
- depth k + 1 is complete when depth k is, and depth k's windows (from the first child on) cover every
  depth k - 1 object's children: each category's ``children_count`` is at most the nested ``first``.
  The categories not seen yet have at most ``(events by type) - (events of the categories seen)``
  between them, so page 1 of each list often settles it before the rest arrives.

A level read ahead asks for page 1 of its type-wide list in the first round, beside the parents' page 1,
and for its remaining pages as soon as its count and the parents' completeness are known; a level that
turns out incomplete is read the usual way, per parent, and costs that one page more. Counts remembered
from earlier requests of the same key (``upstream.KeyCounts``: the top-level list's size, each kind's
size, the most children one parent had) plan every page of every level in the first round. Guards: a
level is read by type alone only when its parents are provably a complete set, so its size is what the
parents need (never 10,000 events for one category), and never past the catalog's cap (``CapReached``
sends it back to the usual way). A read ahead that fails does the same, so every answer and every error
is the one the usual way gives: the type-wide list holds each parent's children in the same stable order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from ..upstream import CapReached, KeyCounts, Page, PageFetcher, Pager, Resource
from .lists import UNFILTERED, ChildKey, ListQuery, ListSpec
from .pagination import Window
from .selection import NestedList
from .store import RequestStore

#: A children list read by type alone, grouped by parent: each parent's children, in the list's order.
Grouped: TypeAlias = dict[str, list[Resource]]


@dataclass(frozen=True, slots=True)
class ChildBatch:
    """One batch of a round: the ``kind`` children matching ``spec`` of every parent in ``parents``.

    Attributes:
        counts: each parent's ``children_count`` when known. It bounds what any spec can match (chunks
            stay under the catalog cap with it), and it is the exact length where ``spec.counts_apply``.
        ahead: the read ahead of this kind and spec by type alone, when one was started: it answers for
            every parent once it has landed, or gives ``None`` and the batch is read the usual way.
    """

    kind: str
    spec: ListSpec
    parents: list[str]
    counts: Mapping[str, int | None]
    ahead: asyncio.Future[Grouped | None] | None = None

    def bound(self, parent_id: str) -> int | None:
        """At most how many children ``parent_id`` has in this list, when known."""
        return self.counts.get(parent_id)

    def expected(self, parents: Sequence[str]) -> int | None:
        """Exactly how many children ``parents`` have in this list together, when known: the pages to ask
        for are planned from it."""
        if not self.spec.counts_apply:
            return None
        total = 0
        for parent_id in parents:
            count = self.counts.get(parent_id)
            if count is None:
                return None
            total += count
        return total


class Planner:
    """Turns the keys a level asked for into the batches fetched in this round, and starts the reads
    ahead a top-level list's selection allows."""

    __slots__ = ("_counts", "_reads", "_store", "ahead")

    def __init__(self, store: RequestStore, *, ahead: bool = False, counts: KeyCounts | None = None) -> None:
        self._store = store
        #: Whether levels may be read ahead (``Settings.plan_ahead`` and a strategy that reads by type).
        self.ahead = ahead
        #: This key's remembered list sizes; ``None`` when nothing is remembered (no key, or reading
        #: ahead is off).
        self._counts = counts if ahead else None
        self._reads: dict[tuple[str, ListSpec], asyncio.Task[Grouped | None]] = {}

    def children(self, kind: str, keys: Sequence[ChildKey]) -> list[ChildBatch]:
        """One batch per spec, parents in the order asked, with their counts as this request knows them."""
        by_spec: dict[ListSpec, list[str]] = {}
        for parent_id, spec in keys:
            by_spec.setdefault(spec, []).append(parent_id)
        count = self._store.children_count
        reads = self._reads
        return [
            ChildBatch(
                kind,
                spec,
                parents,
                {parent_id: count(parent_id) for parent_id in parents},
                reads.get((kind, spec)),
            )
            for spec, parents in by_spec.items()
        ]

    # ---- top-level lists ---------------------------------------------------------------------------

    def expected(self, query: ListQuery) -> int | None:
        """The size ``query`` had when this key last read it, to plan its window's pages at once."""
        return self._counts.get(query) if self._counts is not None else None

    def listed(self, query: ListQuery, total: int) -> None:
        """A top-level list was read: remember its size for the next request."""
        if self._counts is not None:
            self._counts.learn(query, total)

    def tree(
        self,
        query: ListQuery,
        window: Window,
        nested: Sequence[NestedList],
        *,
        pager: Pager,
        pages_of: Callable[[ListQuery], PageFetcher],
    ) -> TreePlan | None:
        """Start reading ahead the levels below ``query``'s window that ``nested`` selects, when they may
        be complete sets; the plan to feed with the list's pages (``TreePlan.watch``), or ``None``.

        ``pages_of`` gives page ``n`` of a list (a kind by type alone, here) through the strategy.
        """
        if not self.ahead or not nested:
            return None
        plan = TreePlan.make(query, window, depths_of(nested), self._counts, pager)
        if plan is None:
            return None
        for depth, level in enumerate(plan.depths, start=1):
            key = (level.kind, UNFILTERED)
            if key not in self._reads:
                fetch = pages_of(ListQuery(level.kind))
                self._reads[key] = asyncio.ensure_future(plan.read(depth, fetch))
        return plan

    def release(self) -> None:
        """Stop the reads still running: the request has answered."""
        for task in self._reads.values():
            task.cancel()
        self._reads.clear()


@dataclass(frozen=True, slots=True)
class Widest:
    """Names, among a key's remembered counts, the most children one parent had in the lists of
    ``kind`` children that ``spec`` keeps."""

    kind: str
    spec: ListSpec


@dataclass(frozen=True, slots=True)
class Depth:
    """One level below a top-level list that may be read ahead.

    Attributes:
        kind: the kind of the level's objects.
        reach: how many children of each parent, from the first, the level's windows that lead to the
            next level cover (the widest of them); ``None`` when none of them starts at the first child.
    """

    kind: str
    reach: int | None


def depths_of(nested: Sequence[NestedList]) -> list[Depth]:
    """The unfiltered levels that ``nested`` selects one below the other, and their reach.

    A filtered list (``events(title: …)``) is never a complete set, and neither is anything below it;
    a list whose window starts past the first child leaves some grandchildren out.
    """
    depths: list[Depth] = []
    level = [field for field in nested if not field.filtered and field.window is not None]
    while level:
        kind = level[0].kind
        level = [field for field in level if field.kind == kind]
        leading = [
            field
            for field in level
            if field.window is not None
            and field.window.offset == 0
            and any(not below.filtered and below.window is not None for below in field.below)
        ]
        reach = max((field.window.first for field in leading if field.window is not None), default=None)
        depths.append(Depth(kind, reach))
        level = [
            below
            for field in leading
            for below in field.below
            if not below.filtered and below.window is not None
        ]
    return depths


class TreePlan:
    """The levels read ahead below one top-level list window, and what is known of their completeness
    (see the module docstring). Depth 0 is the list's own objects, depth k the children of depth k - 1.

    The top-level list's pages report to it (``watch``), each level's read asks it whether to go on
    after its page 1 (``read``); every question is settled at the latest when the list's window has
    been read (``finished``), so no read waits forever.
    """

    def __init__(
        self,
        query: ListQuery,
        window: Window,
        depths: list[Depth],
        counts: KeyCounts | None,
        pager: Pager,
    ) -> None:
        self.query = query
        self.depths = depths
        self._counts = counts
        self._pager = pager
        #: ``reach[k]``: how many of each depth k - 1 object's children the windows cover (``reach[0]``:
        #: of the top-level list itself).
        self._reach: list[int | None] = [window.first, *(depth.reach for depth in depths)]
        self._total: int | None = None  # the top-level list's size, from its pages
        self._finished = False
        self._seen: set[str] = set()  # the list's objects seen, and of them:
        self._counted = 0  # those with a children_count
        self._children = 0  # the sum of those counts
        self._widest = 0  # and the largest
        self._sizes: dict[int, int] = {}  # depth → its kind's size by type alone, from its page 1
        self._proven: set[int] = set()  # depths complete by remembered counts: every page at once
        self._gates: dict[int, asyncio.Future[bool]] = {}

    @classmethod
    def make(
        cls,
        query: ListQuery,
        window: Window,
        depths: list[Depth],
        counts: KeyCounts | None,
        pager: Pager,
    ) -> TreePlan | None:
        """A plan for the depths that may be complete sets, or ``None`` when none may."""
        if query != ListQuery(query.kind) or window.offset != 0 or window.first <= 0 or not depths:
            return None  # a filtered list, or a window past its start, is no complete set of parents
        plan = cls(query, window, depths, counts, pager)
        remembered = plan._remembered_depths()
        if remembered is not None:
            del plan.depths[remembered:]
            del plan._reach[remembered + 1 :]
        return plan if plan.depths else None

    # ---- what remembered counts say ----------------------------------------------------------------

    def _remember(self, list_id: Any) -> int | None:
        return self._counts.get(list_id) if self._counts is not None else None

    def _remembered_depths(self) -> int | None:
        """How many depths remain worth reading ahead after what remembered counts rule out (``None``:
        all of them); marks those whose completeness remembered counts already prove (``_proven``)."""
        total = self._remember(self.query)
        if total is not None and total > self._window_first:
            return 0  # the window leaves some of the list out: its children are no complete set
        cap = self._pager.limits.catalog_cap
        proven = total is not None
        for depth, level in enumerate(self.depths, start=1):
            size = self._remember(ListQuery(level.kind))
            if size is not None and size >= cap:
                return depth - 1  # more than the catalog serves by type alone
            if proven:
                self._proven.add(depth)
            reach = self._reach[depth]
            bound = _smaller(self._remember(Widest(level.kind, UNFILTERED)), size)
            if reach is None or (bound is not None and bound > reach):
                return depth  # some parents of the next depth would be left out
            proven = proven and bound is not None
        return None

    @property
    def _window_first(self) -> int:
        return self._reach[0] or 0

    def _expected(self, depth: int) -> int | None:
        """The remembered size of ``depth``'s kind, when its completeness is proven already: every page
        is then asked for at once. A remembered 0 plans nothing, so page 1 is still asked for."""
        if depth not in self._proven:
            return None
        return self._remember(ListQuery(self.depths[depth - 1].kind)) or None

    # ---- evidence ----------------------------------------------------------------------------------

    def watch(self, fetch: PageFetcher) -> PageFetcher:
        """``fetch`` for the top-level list, each page reported to the plan as it lands."""

        async def watched(number: int) -> Page:
            page = await fetch(number)
            self._listed(page)
            return page

        return watched

    def _listed(self, page: Page) -> None:
        # A count no larger than the pages so far while a next link shows more is no count at all (an
        # upstream that omits it), and a page past the end counts nothing.
        placeholder = page.next_url is not None and page.count <= page.page * len(page.results)
        if (page.results or page.page == 1) and not placeholder:
            self._total = page.count
        for resource in page.results:
            resource_id = resource.get("id")
            if not isinstance(resource_id, str) or resource_id in self._seen:
                continue
            self._seen.add(resource_id)
            count = resource.get("children_count")
            if isinstance(count, int) and not isinstance(count, bool):
                self._counted += 1
                self._children += count
                self._widest = max(self._widest, count)
        self._reconsider()

    def finished(self) -> None:
        """The top-level list's window has been read (or has failed): every question is settled now."""
        self._finished = True
        self._reconsider()

    def _complete(self, depth: int) -> bool | None:
        """Whether ``depth``'s parents are every object of their kind; ``None`` while unknown."""
        if depth == 1:
            if self._total is None:
                return False if self._finished else None
            return self._total <= self._window_first
        before = self._complete(depth - 1)
        if before is not True:
            return before
        return self._covered(depth - 1)

    def _covered(self, depth: int) -> bool | None:
        """Whether ``depth``'s windows cover every child of every depth - 1 object (depth 1 and up)."""
        reach = self._reach[depth]
        if reach is None:
            return False
        if depth > 1:  # the objects of depth 1 and below are not watched: remembered counts alone tell
            bound = self._remember(Widest(self.depths[depth - 1].kind, UNFILTERED))
            return bound is not None and bound <= reach
        if self._widest > reach:
            return False
        size = self._sizes.get(1)
        if size is not None and size - self._children <= reach:
            return True  # the objects not counted yet share what is left of the kind's size
        if self._finished:  # every object of the list seen (it is complete, or depth 1 would be false)
            return self._counted == len(self._seen) >= (self._total or 0)
        return None

    def _reconsider(self) -> None:
        for depth, gate in self._gates.items():
            if not gate.done():
                complete = self._complete(depth)
                if complete is not None:
                    gate.set_result(complete)

    async def _go(self, depth: int, size: int) -> bool:
        """Whether ``depth``'s read goes on past its page 1, which counted ``size``."""
        self._sizes[depth] = size
        if self._counts is not None:
            self._counts.learn(ListQuery(self.depths[depth - 1].kind), size)
        if depth in self._proven:
            self._reconsider()
            return True
        gate: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._gates[depth] = gate
        self._reconsider()
        return await gate

    # ---- reading -----------------------------------------------------------------------------------

    async def read(self, depth: int, fetch: PageFetcher) -> Grouped | None:
        """Every object of ``depth``'s kind by type alone, grouped by parent; ``None`` when its parents
        turn out not to be a complete set, or the read fails or reaches the cap (the usual way then
        answers, and reports any failure exactly as it would have)."""
        pager = self._pager
        kind = self.depths[depth - 1].kind
        try:
            pages = await pager.first_pages(fetch, self._expected(depth), cap=pager.limits.catalog_cap)
            first = pages.get(1)
            if not await self._go(depth, first.count if first is not None else 0):
                return None
            resources = await pager.rest(fetch, pages)
        except CapReached:  # more than the catalog serves by type alone: next time, not even page 1
            if self._counts is not None:
                self._counts.learn(ListQuery(kind), pager.limits.catalog_cap)
            return None
        except Exception:  # any failure: the usual way answers for these parents, and says what failed
            return None
        grouped: Grouped = {}
        for resource in resources:
            parent = resource.get("parent")
            if isinstance(parent, str):
                grouped.setdefault(parent, []).append(resource)
        if self._counts is not None:
            widest = max(map(len, grouped.values()), default=0)
            self._counts.learn(Widest(kind, UNFILTERED), widest)
        return grouped


def _smaller(a: int | None, b: int | None) -> int | None:
    """The smaller of two bounds, either of which may be unknown."""
    if a is None:
        return b
    return a if b is None else min(a, b)
