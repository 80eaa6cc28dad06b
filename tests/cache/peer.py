"""A second gateway process's cache, driven line by line, so a test can share one Redis across processes.

Run as ``python peer.py <redis url>``; it prints ``ready`` once its cache is usable, then answers each JSON
command on standard input with one JSON line:

- ``{"op": "get", "key": K, "request": R, "deps": [...], "answer": "..."}`` → ``{"status", "tier", "value"}``
  (a miss answers ``answer``);
- ``{"op": "invalidate", "key": K, "scopes": [...]}`` → ``{"ok": true}``;
- ``{"op": "key_hash", "key": K}`` → ``{"digest": ...}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from events_gateway.cache import Cache, CacheConfig


async def serve(url: str) -> None:
    cache = await Cache.open(CacheConfig(redis_url=url))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print("ready" if cache.usable else "not usable", flush=True)
    try:
        while line := await reader.readline():
            command = json.loads(line)
            print(json.dumps(await run(cache, command)), flush=True)
    finally:
        await cache.aclose()


async def run(cache: Cache, command: dict[str, Any]) -> dict[str, Any]:
    key_hash = cache.key_hash(command["key"])
    if command["op"] == "get":
        answer: bytes = command["answer"].encode()

        async def fetch() -> bytes:
            return answer

        result = await cache.get_or_fetch(key_hash, command["request"], command["deps"], fetch)
        return {"status": str(result.status), "tier": result.tier, "value": result.value.decode()}
    if command["op"] == "invalidate":
        await cache.invalidate(key_hash, command["scopes"])
        return {"ok": True}
    if command["op"] == "key_hash":
        return {"digest": key_hash.digest}
    raise ValueError(command["op"])


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
