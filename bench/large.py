"""How long a whole workspace's hierarchy takes to execute and serialise, with the data already in memory.

The tree (categories → events → properties, ~8 scalar fields asked of each object) is built as upstream
resource dicts; the gateway's loaders are primed with them and its one root list is answered by a stub
session, so no network is involved and only GraphQL execution plus JSON encoding is timed. Three runs
of the same document over the same data:

- the gateway's schema as served (Strawberry with the fast executor of ``graph/execution.py``);
- the same schema on Strawberry's default executor;
- plain graphql-core with its default resolvers, over nested dicts shaped like the answer, on the SDL the
  gateway exports (the floor a generic Python GraphQL server reaches).

Each run ends with ``orjson.dumps`` of the response, as the server sends it. The gateway runs include
building its objects from the upstream dicts (they read their fields from the dict when asked), while
the graphql-core run gets its answer-shaped dicts built beforehand: a floor that favours graphql-core.
Prints medians and ratios; asserts only that every answer is the same.

    .venv/bin/python bench/large.py                       # 10 x 100 x 10: 11,010 objects
    .venv/bin/python bench/large.py --size 20x100x20 --runs 9
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import orjson
import strawberry
from graphql import build_schema as build_sdl_schema
from graphql import execute, parse, print_schema, validate
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from events_gateway.graph import GraphContext, build_schema
from events_gateway.graph.lists import UNFILTERED
from events_gateway.graph.loaders import Loaders
from events_gateway.settings import Settings
from events_gateway.upstream.client import Page, PageSizeMemo, Resource

T = TypeVar("T")

SCALARS = "id title description createdAt updatedAt published pii verified"
PROPERTY_SCALARS = "id title type isRequired createdAt updatedAt pii verified"
QUERY = f"""
query Tree {{
  eventCategories(first: 1000) {{
    totalCount
    nodes {{
      {SCALARS}
      events(first: 1000) {{
        totalCount
        nodes {{
          {SCALARS}
          properties(first: 1000) {{
            totalCount
            nodes {{ {PROPERTY_SCALARS} }}
          }}
        }}
      }}
    }}
  }}
}}
"""


def _resource(kind: str, index: int, parent: str | None, children: int) -> Resource:
    stamp = f"2024-01-01T00:{index // 60 % 60:02d}:{index % 60:02d}.000000+00:00"
    resource: Resource = {
        "id": f"00000000-0000-4000-8000-{index:012d}",
        "entity_type": kind,
        "title": f"{kind} {index}",
        "title_full": f"{kind}.{index}",
        "description": f"The {kind} number {index}.",
        "definition": "",
        "created_at": stamp,
        "updated_at": stamp,
        "published": index % 2 == 0,
        "pii": index % 3 == 0,
        "verified": index % 5 == 0,
        "parent": parent,
        "children_count": children,
        "owners": [],
        "tags": [],
        "teams": [],
    }
    if kind == "event_property":
        resource.update(type="string", is_required=index % 4 == 0, enum_values="", is_array_type=False)
    return resource


class Tree:
    """The whole hierarchy as resource dicts, and the children ids of every parent."""

    def __init__(self, categories: int, events: int, properties: int) -> None:
        counter = iter(range(10**9))
        self.categories: list[Resource] = []
        self.events: dict[str, list[Resource]] = {}
        self.properties: dict[str, list[Resource]] = {}
        for _ in range(categories):
            category = _resource("event_category", next(counter), None, events)
            self.categories.append(category)
            self.events[category["id"]] = []
            for _ in range(events):
                event = _resource("event", next(counter), category["id"], properties)
                self.events[category["id"]].append(event)
                self.properties[event["id"]] = [
                    _resource("event_property", next(counter), event["id"], 0) for _ in range(properties)
                ]

    @property
    def size(self) -> int:
        return (
            len(self.categories)
            + sum(map(len, self.events.values()))
            + sum(map(len, self.properties.values()))
        )


class RootOnlySession:
    """Answers the one root list call; every other level comes from the primed loaders."""

    def __init__(self, categories: list[Resource]) -> None:
        self._categories = categories
        self.page_size_memo = PageSizeMemo()

    async def list_resources(self, **_: Any) -> Page:
        results = list(self._categories)
        return Page(results=results, count=len(results), page=1, total_pages=1, next_url=None)


def primed_context(tree: Tree, settings: Settings, loop: asyncio.AbstractEventLoop) -> GraphContext:
    """A request context whose loaders already hold the whole tree."""
    session: Any = RootOnlySession(tree.categories)
    loaders = Loaders(session=session, settings=settings, loop=loop)
    for category in tree.categories:
        loaders.store.remember(category)
        events = tree.events[category["id"]]
        loaders.events_by_category.prime((category["id"], UNFILTERED), [event["id"] for event in events])
        for event in events:
            loaders.store.remember(event)
            properties = tree.properties[event["id"]]
            loaders.properties_by_event.prime((event["id"], UNFILTERED), [item["id"] for item in properties])
            for item in properties:
                loaders.store.remember(item)
    return GraphContext(request_id="bench", settings=settings, loaders=loaders)


# ---- plain graphql-core over dicts --------------------------------------------------------------------


def _camel(resource: Resource, fields: str) -> dict[str, Any]:
    """The dict a default resolver reads: schema field names, values already in their output form."""
    names = {
        "id": "id",
        "title": "title",
        "description": "description",
        "createdAt": "created_at",
        "updatedAt": "updated_at",
        "published": "published",
        "pii": "pii",
        "verified": "verified",
        "type": "type",
        "isRequired": "is_required",
    }
    out = {name: resource.get(names[name]) for name in fields.split()}
    for stamp in ("createdAt", "updatedAt"):
        out[stamp] = datetime.fromisoformat(out[stamp]).isoformat()
    return out


def nested_dicts(tree: Tree) -> dict[str, Any]:
    """The root value for graphql-core: the answer's shape, as plain dicts and lists."""

    def connection(nodes: list[dict[str, Any]]) -> dict[str, Any]:
        return {"totalCount": len(nodes), "nodes": nodes}

    categories = []
    for category in tree.categories:
        events = []
        for event in tree.events[category["id"]]:
            properties = [_camel(item, PROPERTY_SCALARS) for item in tree.properties[event["id"]]]
            events.append({**_camel(event, SCALARS), "properties": connection(properties)})
        categories.append({**_camel(category, SCALARS), "events": connection(events)})
    return {"eventCategories": connection(categories)}


# ---- timing ------------------------------------------------------------------------------------------


def _at_depth(depth: int, call: Callable[[], T]) -> T:
    """``call()`` from ``depth`` more (ordinary, not coroutine) frames down the interpreter's stack."""
    return call() if depth == 0 else _at_depth(depth - 1, call)


@dataclass
class Config:
    """One way of answering the document; ``prepare`` builds what a run needs, outside the timing."""

    label: str
    prepare: Callable[[], Any]
    run: Callable[[Any], Awaitable[bytes]]
    timings: dict[int, list[float]] = field(default_factory=dict)
    body: bytes = b""

    def once(self, loop: asyncio.AbstractEventLoop, depth: int) -> float:
        """CPU milliseconds of one run (process time: the machine may be shared), with the event loop
        driven from ``depth`` frames further down the stack."""
        prepared = self.prepare()
        gc.collect()
        started = time.process_time()
        self.body = _at_depth(depth, lambda: loop.run_until_complete(self.run(prepared)))
        return (time.process_time() - started) * 1000

    def best_and_worst(self) -> tuple[float, float]:
        """The best and the worst starting depth, each by its median run.

        On CPython 3.11 the interpreter's frames live in 16 KiB chunks, and a chunk is unmapped as soon
        as the stack shrinks out of it: a deep recursion that keeps crossing a chunk boundary (as a
        GraphQL tree walk does, once per field) maps and unmaps memory on every crossing. Where the
        boundary falls depends on how deep the run starts, so one starting depth can be several times
        slower than the next; every run is compared at its best, and its worst is shown.
        """
        medians = [statistics.median(runs) for runs in self.timings.values()]
        return min(medians), max(medians)


def main(size: tuple[int, int, int], runs: int, depths: range) -> None:
    tree = Tree(*size)
    settings = Settings(max_cost=10**9, max_first=10_000)
    fast = build_schema(settings)
    default = build_schema(settings)
    default.execution_context_class = StrawberryGraphQLCoreExecutionContext
    loop = asyncio.new_event_loop()

    def gateway(label: str, schema: strawberry.Schema) -> Config:
        async def run(context: GraphContext) -> bytes:
            result = await schema.execute(QUERY, context_value=context)
            if result.errors:
                raise RuntimeError(f"the gateway answered with errors: {result.errors[:2]}")
            return orjson.dumps({"data": result.data})

        return Config(label, lambda: primed_context(tree, settings, loop), run)

    sdl_schema = build_sdl_schema(print_schema(fast._schema))
    document = parse(QUERY)
    if errors := validate(sdl_schema, document):
        raise RuntimeError(f"the document does not fit the exported schema: {errors}")
    root = nested_dicts(tree)

    async def plain(_: None) -> bytes:
        result = execute(sdl_schema, document, root_value=root)
        assert not isinstance(result, Awaitable)
        if result.errors:
            raise RuntimeError(f"graphql-core answered with errors: {result.errors[:2]}")
        return orjson.dumps({"data": result.data})

    served = [gateway("gateway, fast executor", fast), gateway("gateway, default executor", default)]
    floor = Config("plain graphql-core over dicts", lambda: None, plain)
    try:
        for config in [*served, floor]:  # warm up: first-use imports and caches are not measured
            config.once(loop, 0)
        for _ in range(runs):  # interleaved, so a change in the machine's load hits every row alike
            for depth in depths:
                for config in [*served, floor]:
                    config.timings.setdefault(depth, []).append(config.once(loop, depth))
    finally:
        loop.close()
    if len({config.body for config in [*served, floor]}) != 1:
        raise RuntimeError("the runs answered differently")

    c, e, p = size
    print(f"\n{c} categories x {e} events x {p} properties: {tree.size:,} objects, {len(floor.body):,} bytes")
    print(
        f"CPU ms per request (execution + orjson.dumps); median of {runs} runs at each of {len(depths)}"
        " starting stack depths, best and worst depth"
    )
    floor_best, _ = floor.best_and_worst()
    print(f"  {'':<48}{'best':>8}{'worst':>8}{'graphql-core best / best':>27}")

    def row(label: str, config: Config) -> None:
        best, worst = config.best_and_worst()
        print(f"  {label:<48}{best:>8.1f}{worst:>8.1f}{floor_best / best:>26.2f}x")

    row("plain graphql-core over dicts", floor)
    for config in served:
        row(f"{config.label}, as served", config)


def _size(text: str) -> tuple[int, int, int]:
    c, e, p = (int(part) for part in text.split("x"))
    return c, e, p


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=_size, default=(10, 100, 10), help="categories x events x properties")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--depths", type=int, default=10, help="starting stack depths tried (0, 16, 32, ...)")
    arguments = parser.parse_args()
    main(arguments.size, arguments.runs, range(0, 16 * arguments.depths, 16))
