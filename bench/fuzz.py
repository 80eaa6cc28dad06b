"""Fuzz the gateway for longer than CI does, and print what was tried and how each document was answered.

Documents come from ``hypothesis-graphql`` over the schema the gateway serves (introspected over HTTP):
valid queries and mutations (``positive``), and documents with one schema violation each (``negative``).
ids are real demo ids half the time, else random strings and UUIDs. Every document is POSTed over
loopback to a real gateway in front of a real emulator (one process, one loop). An answer *violates*
when it is a 5xx, is not JSON, or holds an error without ``extensions.code`` or with
``INTERNAL_SERVER_ERROR``; the run prints each violation's document. Run::

    .venv/bin/python bench/fuzz.py [--examples 2000] [--mode both|positive|negative] [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import graphql
import httpx
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from events_gateway.emulator import DEMO_API_KEY, EmulatorSettings, run_emulator
from events_gateway.server import create_app
from events_gateway.settings import Settings

HEADERS = {"Authorization": f"Bearer {DEMO_API_KEY}", "Accept": "application/graphql-response+json"}
IDS_QUERY = """{ eventCategories { nodes { id integrationId events { nodes { id
  properties { nodes { id } } } } } } }"""


@dataclass
class Tally:
    """Outcomes of one mode's documents."""

    tried: int = 0
    operations: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    violations: list[tuple[str, str]] = field(default_factory=list)

    def record(self, document: str, status: int, text: str) -> None:
        self.tried += 1
        self.operations["mutation" if document.lstrip().startswith("mutation") else "query"] += 1
        self.statuses[status] += 1
        try:
            body: dict[str, Any] = json.loads(text)
        except ValueError:
            self.violations.append((document, f"{status}: not JSON: {text[:200]}"))
            return
        errors = body.get("errors") or []
        codes = [(error.get("extensions") or {}).get("code") for error in errors]
        self.codes.update(code or "<no code>" for code in codes)
        if "data" not in body:
            self.outcomes["refused (no data)"] += 1
        elif errors:
            self.outcomes["data with errors"] += 1
        else:
            self.outcomes["data, no errors"] += 1
        if status >= 500 or not all(codes) or "INTERNAL_SERVER_ERROR" in codes:
            self.violations.append((document, f"{status}: {text[:300]}"))


@asynccontextmanager
async def gateway_over_emulator() -> AsyncIterator[str]:
    """A gateway on a free loopback port in front of a demo emulator; yields the /graphql URL."""
    emulator_settings = EmulatorSettings(admin=True, write_limit=None)
    async with run_emulator(emulator_settings, host="127.0.0.1", port=0) as emulator:
        runner = web.AppRunner(create_app(Settings(upstream_url=emulator.api_url)))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        try:
            yield f"http://{host}:{port}/graphql"
        finally:
            await runner.cleanup()


async def fuzz_target(url: str, http: httpx.AsyncClient) -> tuple[graphql.GraphQLSchema, list[str]]:
    introspection = await http.post(url, json={"query": graphql.get_introspection_query()}, headers=HEADERS)
    schema = graphql.build_client_schema(introspection.json()["data"])
    listing = (await http.post(url, json={"query": IDS_QUERY}, headers=HEADERS)).json()["data"]
    ids: set[str] = set()
    for category in listing["eventCategories"]["nodes"]:
        ids |= {category["id"], category["integrationId"]}
        for event in category["events"]["nodes"]:
            ids.add(event["id"])
            ids |= {prop["id"] for prop in event["properties"]["nodes"]}
    return schema, sorted(ids)


def run_mode(
    loop: asyncio.AbstractEventLoop,
    url: str,
    http: httpx.AsyncClient,
    strategy: st.SearchStrategy[str],
    examples: int,
    random_seed: int | None,
) -> Tally:
    tally = Tally()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # nothing raises: every answer is tallied, violations included
        suppress_health_check=list(HealthCheck),
    )
    @given(document=strategy)
    def one(document: str) -> None:
        response = loop.run_until_complete(http.post(url, json={"query": document}, headers=HEADERS))
        tally.record(document, response.status_code, response.text)

    if random_seed is not None:
        one = seed(random_seed)(one)
    one()
    return tally


def report(mode: str, tally: Tally, seconds: float) -> None:
    print(f"\n== {mode}: {tally.tried} documents in {seconds:.1f} s ({dict(tally.operations)})")
    print(f"   HTTP status: {dict(sorted(tally.statuses.items()))}")
    print(f"   outcome:     {dict(tally.outcomes.most_common())}")
    print(f"   error codes: {dict(tally.codes.most_common())}")
    print(f"   violations:  {len(tally.violations)}")
    for document, answer in tally.violations[:10]:
        print(f"   --- {answer}\n{document}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="documents per mode")
    parser.add_argument("--mode", choices=("both", "positive", "negative"), default="both")
    parser.add_argument("--seed", type=int, default=None, help="replay a run")
    args = parser.parse_args()

    loop = asyncio.new_event_loop()
    servers = gateway_over_emulator()
    url = loop.run_until_complete(servers.__aenter__())
    http = httpx.AsyncClient(timeout=60)
    try:
        schema, ids = loop.run_until_complete(fuzz_target(url, http))
        id_values = st.one_of(
            st.sampled_from(ids), st.sampled_from(ids), st.uuids().map(str), st.text(max_size=40)
        ).map(nodes.String)
        modes = ("positive", "negative") if args.mode == "both" else (args.mode,)
        print(f"gateway {url}; {len(ids)} demo ids; {args.examples} documents per mode")
        total_violations = 0
        for mode in modes:
            strategy = from_schema(
                schema,
                custom_scalars={"ID": id_values},
                mode=Mode.POSITIVE if mode == "positive" else Mode.NEGATIVE,
            )
            started = time.perf_counter()
            tally = run_mode(loop, url, http, strategy, args.examples, args.seed)
            report(mode, tally, time.perf_counter() - started)
            total_violations += len(tally.violations)
        print(f"\nviolations in all: {total_violations}")
    finally:
        loop.run_until_complete(http.aclose())
        loop.run_until_complete(servers.__aexit__(None, None, None))
        loop.close()


if __name__ == "__main__":
    main()
