"""What the cache is told: freshness, memory budget, Redis and its timeouts, as one value object."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_BREAKER_COOLDOWN",
    "DEFAULT_BREAKER_THRESHOLD",
    "DEFAULT_CACHE_MAX_BYTES",
    "DEFAULT_CACHE_STALE",
    "DEFAULT_CACHE_TTL",
    "DEFAULT_LOCK_TTL",
    "DEFAULT_MAX_GENERATIONS",
    "DEFAULT_NAMESPACE",
    "DEFAULT_REDIS_CONNECT_TIMEOUT",
    "DEFAULT_REDIS_TIMEOUT",
    "CacheConfig",
]

#: The cache of upstream answers (docs/cache.md). Five seconds is how late an edit made in Secoda's own UI
#: may show, short enough for a person editing there; it still serves bursts of identical reads (a
#: dashboard's panels, many users of one page) from memory, and the gateway's own writes show at once.
DEFAULT_CACHE_TTL = 5.0
#: Seconds past the TTL an answer may still be served, marked stale, while one refresh runs or while the
#: upstream fails: a hot entry never makes a caller wait, and a minute-long upstream outage goes unseen.
DEFAULT_CACHE_STALE = 60.0
#: Bytes of answers each process keeps in memory (64 MiB: about ninety 1,105-object trees).
DEFAULT_CACHE_MAX_BYTES = 64 * 1024 * 1024
#: Seconds one Redis command may take, and one connection may take to open. A cache that is slower than
#: the upstream it saves is no cache: past this the lookup is a miss, so Redis trouble costs at most this.
DEFAULT_REDIS_TIMEOUT = 0.1
DEFAULT_REDIS_CONNECT_TIMEOUT = 0.1
#: Consecutive Redis errors that open its circuit (then no command is sent), and seconds until one probe.
DEFAULT_BREAKER_THRESHOLD = 3
DEFAULT_BREAKER_COOLDOWN = 1.0
#: Seconds a replica holds the right to refresh one entry; past it another replica may refresh too.
DEFAULT_LOCK_TTL = 5.0
#: Generation counters one process keeps; past it the least recently used are forgotten (see generations.py).
DEFAULT_MAX_GENERATIONS = 100_000
#: Prefix of every Redis key and of the invalidation channel.
DEFAULT_NAMESPACE = "events-gateway:cache:v1"


@dataclass(frozen=True, slots=True)
class CacheConfig:
    """Everything the cache can be told.

    Attributes:
        ttl: seconds an entry is served without asking the upstream; ``0`` turns the cache off.
        stale: seconds past ``ttl`` an entry may still be served (marked stale) while one refresh runs,
            or while refreshes fail.
        max_bytes: bytes the in-process tier keeps (values, keys and bookkeeping); least recently used go.
        redis_url: the shared tier (``redis://…``); ``None``: one process, memory only. Never printed.
        secret: per-deployment secret API keys are hashed with; ``None``: generated (see ``keys.py``).
        redis_timeout, redis_connect_timeout: seconds per Redis command, and to open a connection.
        breaker_threshold, breaker_cooldown: consecutive Redis errors that open its circuit, and seconds
            until one probe is let through.
        lock_ttl: seconds one replica holds an entry's refresh lock.
        max_generations: generation counters one process remembers.
        namespace: prefix of every Redis key and channel (two deployments may share one Redis).
    """

    ttl: float = DEFAULT_CACHE_TTL
    stale: float = DEFAULT_CACHE_STALE
    max_bytes: int = DEFAULT_CACHE_MAX_BYTES
    redis_url: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    redis_timeout: float = DEFAULT_REDIS_TIMEOUT
    redis_connect_timeout: float = DEFAULT_REDIS_CONNECT_TIMEOUT
    breaker_threshold: int = DEFAULT_BREAKER_THRESHOLD
    breaker_cooldown: float = DEFAULT_BREAKER_COOLDOWN
    lock_ttl: float = DEFAULT_LOCK_TTL
    max_generations: int = DEFAULT_MAX_GENERATIONS
    namespace: str = DEFAULT_NAMESPACE

    def __post_init__(self) -> None:
        if self.ttl < 0 or self.stale < 0:
            raise ValueError("ttl and stale must not be negative")
        for name in ("max_bytes", "redis_timeout", "redis_connect_timeout", "breaker_threshold"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.lock_ttl <= 0 or self.max_generations <= 0 or self.breaker_cooldown < 0:
            raise ValueError("lock_ttl and max_generations must be positive, breaker_cooldown not negative")
        if not self.namespace or any(c.isspace() for c in self.namespace):
            raise ValueError("namespace must be a non-empty word")

    @property
    def enabled(self) -> bool:
        """Whether anything is cached at all (``ttl`` above zero)."""
        return self.ttl > 0

    @property
    def lifetime(self) -> float:
        """Seconds an entry lives at most: fresh, then stale."""
        return self.ttl + self.stale

    @property
    def counter_ttl(self) -> float:
        """Seconds an unused generation counter lives in Redis: well past any entry that embeds it."""
        return max(900.0, 4 * self.lifetime)
