"""Generation counters: per (key hash, scope), time-based, never going backwards for any process.

An entry is valid while the counters it depends on still hold the values it was computed under; a write
bumps counters, and entries computed before stop matching. In Redis, entry keys embed those values, so
nothing is ever scanned or deleted; everything expires by its TTL.

Values are microseconds since the epoch. A bump sets ``max(now, current + 1, what this process knew + 1)``.
A counter Redis does not hold (never written, expired, evicted, flushed, or Redis restarted empty) is
created at ``max(now, the highest value the reading process has seen + 1)``, and a process that knew a
higher value than Redis holds raises Redis's to it as it reads. So no counter ever takes a value an entry
was computed under before a bump: that is what makes a Redis that comes back empty safe. (Across
replicas it assumes clocks that agree to well within an entry's lifetime; the scripts take the larger of
Redis's clock and the caller's.)

In a process, counters read from Redis are remembered; they are trusted while the invalidation broadcast
arrives without a gap and for at most a quarter of the counters' TTL, then read again (which renews their
TTL in Redis). At a gap they all become untrusted, keeping their values as floors: the next read takes
the larger of Redis's value (which has every bump missed meanwhile) and the remembered one. A process
remembers at most ``max_entries`` counters; without Redis, a counter it no longer remembers reads as a
floor that rose with every counter let go, so that never lowers a value either.

Bumps Redis cannot take while it is down are kept (bounded; past the bound, one bump of the world
counter stands for all of them) and sent when it answers again, before the cache trusts Redis.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from redis.commands.core import AsyncScript

from .link import RedisLink

__all__ = ["EPOCH", "WORLD", "Generations"]

logger = logging.getLogger("events_gateway.cache")

#: The scope every entry of a key hash depends on: bumping it drops them all (a 401 or 403).
EPOCH = "epoch"
#: The counter every entry of every key depends on (key hash ``*``): bumped when a bump is lost.
WORLD = "world"
_ALL_KEYS = "*"
#: Bumps kept while Redis is down, at most; past it the world counter is bumped instead.
MAX_PENDING = 10_000
#: Seconds the shared secret lives in Redis; every counter read or bump renews it.
SECRET_TTL = 30 * 24 * 3600.0


def secret_key(namespace: str) -> str:
    """The Redis key of the secret shared by every process of a deployment (see keys.py)."""
    return f"{namespace}:secret"


async def exchange_secret(link: RedisLink, namespace: str, candidate: str) -> str | None:
    """The secret Redis holds under ``namespace``, stored as ``candidate`` (``SET NX``) when it holds
    none, its TTL renewed; ``None`` when Redis cannot answer."""
    key = secret_key(namespace)
    ttl_ms = int(SECRET_TTL * 1000)

    async def exchange(r: Any) -> Any:
        async with r.pipeline(transaction=True) as pipe:
            pipe.set(key, candidate, nx=True, px=ttl_ms)
            pipe.get(key)
            pipe.pexpire(key, ttl_ms)
            return await pipe.execute()

    answer = await link.run("secret", exchange, None)
    if not answer or not isinstance(answer[1], bytes):
        return None
    return str(answer[1].decode())


#: Both scripts: ``KEYS``: the shared secret, then counters. ``ARGV``: the secret ('' when it is not kept
#: in Redis), its TTL in ms, the counters' TTL in ms, the caller's clock in µs, the caller's highest value
#: seen, the channel, the caller's secret id, then per counter the least value it must take. They answer
#: 'SECRET' when Redis holds another secret than the caller's.
_PROLOGUE = """
local function clock()
  local t = redis.call('TIME')
  return math.max(tonumber(t[1]) * 1000000 + tonumber(t[2]), tonumber(ARGV[4]), tonumber(ARGV[5]) + 1)
end
local function write(key, value)
  local text = string.format('%.0f', value)
  redis.call('SET', key, text, 'PX', ARGV[3])
  return text
end
if ARGV[1] ~= '' then
  local held = redis.call('GET', KEYS[1])
  if not held then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  elseif held ~= ARGV[1] then
    return 'SECRET'
  else
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
  end
end
"""
#: Each counter's value: created above anything known when absent, raised to the caller's floor when
#: below it (the caller knew more than a Redis that lost the counter), its TTL renewed.
READ_SCRIPT = (
    _PROLOGUE
    + """
local out = {}
local created = nil
for i = 2, #KEYS do
  local floor = tonumber(ARGV[6 + i])
  local value = redis.call('GET', KEYS[i])
  if not value then
    created = created or clock()
    value = write(KEYS[i], math.max(created, floor))
  elseif tonumber(value) < floor then
    value = write(KEYS[i], floor)
  else
    redis.call('PEXPIRE', KEYS[i], ARGV[3])
  end
  out[#out + 1] = value
end
return out
"""
)
#: Each counter set above every value it had, and announced in the same atomic step (so no bump goes
#: unannounced) as lines: the sender's secret id, then ``<counter> <value>`` per counter.
BUMP_SCRIPT = (
    _PROLOGUE
    + """
local base = clock()
local out = {}
local lines = {ARGV[7]}
for i = 2, #KEYS do
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  local value = write(KEYS[i], math.max(base, current + 1, tonumber(ARGV[6 + i])))
  out[#out + 1] = value
  lines[#lines + 1] = KEYS[i] .. ' ' .. value
end
redis.call('PUBLISH', ARGV[6], table.concat(lines, '\\n'))
return out
"""
)
SECRET_MISMATCH = b"SECRET"


def now_us() -> int:
    return time.time_ns() // 1000


class Generations:
    """The counters of one process, backed by Redis when ``link`` is given.

    Example::

        gens = Generations("ns", link=link, channel="ns:inv", counter_ttl=900)
        counters = [gens.counter(key_hash, "o:event:42"), gens.counter(key_hash, EPOCH), gens.world]
        values = await gens.current(counters)     # None: Redis could not answer (do not cache)
        await gens.bump([gens.counter(key_hash, "o:event:42")])
    """

    def __init__(
        self,
        namespace: str,
        *,
        link: RedisLink | None = None,
        channel: str = "",
        counter_ttl: float = 900.0,
        max_entries: int = 100_000,
        clock_us: Callable[[], int] = now_us,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._prefix = f"{namespace}:g:"
        self.secret_key = secret_key(namespace)
        self.world = f"{self._prefix}{_ALL_KEYS}:{WORLD}"
        self._link = link
        self._channel = channel
        self._counter_ttl_ms = int(counter_ttl * 1000)
        self._trust = counter_ttl / 4
        self._max_entries = max_entries
        self._clock_us = clock_us
        self._monotonic = monotonic
        self._known: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._floor = 0
        #: The highest value this process has seen of any counter.
        self.high_water = 0
        self._pending: dict[str, int] = {}
        self._pending_world = False
        self._era = 0
        #: The secret checked and kept in Redis by every script ('' when configured, not shared there).
        self.shared_secret = ""
        #: The secret id announced with each bump.
        self.secret_id = ""
        #: Called when Redis holds another shared secret than ours (the cache then adopts Redis's).
        self.on_secret_mismatch: Callable[[], None] = lambda: None
        if link is not None:
            self._read = link.script(READ_SCRIPT)
            self._bump = link.script(BUMP_SCRIPT)

    # --- names -----------------------------------------------------------------------------------

    def counter(self, key_hash: str, scope: str) -> str:
        """The Redis key (and local name) of one key hash's counter of ``scope``."""
        return f"{self._prefix}{key_hash}:{scope}"

    def parse(self, counter: str) -> tuple[str, str] | None:
        """The key hash and scope of a counter's name (``None`` for the world counter or a foreign name)."""
        if not counter.startswith(self._prefix):
            return None
        key_hash, _, scope = counter[len(self._prefix) :].partition(":")
        return None if key_hash == _ALL_KEYS or not scope else (key_hash, scope)

    # --- reading ---------------------------------------------------------------------------------

    async def current(self, counters: Sequence[str]) -> tuple[int, ...] | None:
        """The values of ``counters`` now, or ``None`` when Redis was needed and could not answer."""
        moment = self._monotonic()
        missing: list[str] = []
        for name in counters:
            known = self._known.get(name)
            if known is None or (self._link is not None and moment - known[1] >= self._trust):
                missing.append(name)
            else:
                self._known.move_to_end(name)
        if missing:
            if self._link is None:
                return tuple(self._value(name) for name in counters)
            era = self._era
            floors = [self._known[name][0] if name in self._known else 0 for name in missing]
            values = await self._run(self._read, "generations", missing, floors)
            if values is None or era != self._era:
                return None  # no answer, or a gap while it came: it may predate a missed bump
            self.merge(dict(zip(missing, values, strict=True)))
        return tuple(self._known[name][0] for name in counters)

    def merge(self, values: Mapping[str, int]) -> None:
        """Learn values (read, bumped, or broadcast by another process); a counter only ever rises."""
        moment = self._monotonic()
        for name, value in values.items():
            known = self._known.get(name)
            if known is not None and known[0] > value:
                value = known[0]
            self._known[name] = (value, moment)
            self._known.move_to_end(name)
            self.high_water = max(self.high_water, value)
        while len(self._known) > self._max_entries:
            _, (value, _) = self._known.popitem(last=False)
            self._floor = max(self._floor, value)

    def distrust(self) -> None:
        """After a gap in the broadcast: read every counter from Redis again before using it (bumps may
        have been missed); the values known stay as floors, so none goes backwards."""
        self._known = OrderedDict((name, (value, -math.inf)) for name, (value, _) in self._known.items())
        self._era += 1

    def forget(self) -> None:
        """Forget every counter (they belong to key hashes made with a secret no longer in use)."""
        self._floor = max(self._floor, self.high_water)
        self._known.clear()
        self._era += 1

    # --- writing ---------------------------------------------------------------------------------

    async def bump(self, counters: Iterable[str]) -> dict[str, int]:
        """Raise ``counters`` above every value they had, here at once and in Redis (announced to every
        process); kept for later when Redis cannot take it. Returns the values now known here."""
        names = list(dict.fromkeys(counters))
        if not names:
            return {}
        base = self._clock_us()
        local = {name: max(base, self._value(name) + 1) for name in names}
        self.merge(local)
        if self._link is not None:
            # Sent even while Redis's circuit is open: Redis may be back for the other processes already,
            # and they could not learn of this write any other way (writes are few; the timeout bounds it).
            values = await self._run(self._bump, "bump", names, [local[name] for name in names], force=True)
            if values is None:
                self._keep(local)
            else:
                self.merge(dict(zip(names, values, strict=True)))
        return {name: self._known[name][0] for name in names if name in self._known}

    @property
    def pending(self) -> bool:
        """Whether bumps are waiting for Redis."""
        return bool(self._pending) or self._pending_world

    async def send_pending(self) -> bool:
        """Send the bumps Redis missed; whether none is left waiting."""
        if not self.pending or self._link is None:
            return True
        names = list(self._pending)
        floors = [self._pending[name] for name in names]
        if self._pending_world:
            names.append(self.world)
            floors.append(max(self._value(self.world) + 1, self._clock_us()))
        values = await self._run(self._bump, "bump", names, floors)
        if values is None:
            return False
        self._pending.clear()
        self._pending_world = False
        self.merge(dict(zip(names, values, strict=True)))
        return True

    def lose_pending_keys(self) -> None:
        """The pending bumps were made under a secret no longer in use: one world bump stands for them."""
        if self._pending:
            self._pending.clear()
            self._pending_world = True

    def _keep(self, values: Mapping[str, int]) -> None:
        for name, value in values.items():
            self._pending[name] = max(value, self._pending.get(name, 0))
        if len(self._pending) > MAX_PENDING:
            self._pending.clear()
            self._pending_world = True

    def _value(self, name: str) -> int:
        known = self._known.get(name)
        return known[0] if known is not None else self._floor

    async def _run(
        self,
        script: AsyncScript,
        operation: str,
        names: Sequence[str],
        floors: Sequence[int],
        *,
        force: bool = False,
    ) -> list[int] | None:
        """Run a counter script; its values, or ``None`` when Redis did not answer or holds another secret."""
        assert self._link is not None
        keys = [self.secret_key, *names]
        args: list[str | int] = [
            self.shared_secret,
            int(SECRET_TTL * 1000),
            self._counter_ttl_ms,
            self._clock_us(),
            self.high_water,
        ]
        args += [self._channel, self.secret_id, *floors]
        answer = await self._link.run_script(operation, script, keys, args, force=force)
        if answer is None:
            return None
        if answer == SECRET_MISMATCH:
            logger.warning(
                "the cache secret in redis changed; adopting it and dropping this process's entries"
            )
            self.on_secret_mismatch()
            return None
        if not isinstance(answer, list) or len(answer) != len(names):
            logger.warning("redis answered a generation script with something unexpected; not caching")
            return None
        return [int(value) for value in answer]
