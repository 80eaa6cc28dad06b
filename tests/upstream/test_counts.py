"""List sizes remembered per key: one key never reads another's, no key is kept, and the memo is bounded."""

from __future__ import annotations

from events_gateway.upstream import ListCounts, UpstreamClient, UpstreamSettings

ALPHA = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
BETA = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"


def test_one_key_never_reads_another_keys_sizes() -> None:
    memo = ListCounts()
    memo.for_key(ALPHA).learn(("event", None), 120)

    assert memo.for_key(ALPHA).get(("event", None)) == 120  # a later request of the same key
    assert memo.for_key(BETA).get(("event", None)) is None
    memo.for_key(BETA).learn(("event", None), 3)
    assert memo.for_key(ALPHA).get(("event", None)) == 120


def test_no_key_is_kept_and_digests_differ_between_processes() -> None:
    memo, other = ListCounts(), ListCounts()
    memo.for_key(ALPHA).learn("categories", 7)

    held = repr([getattr(memo, name) for name in memo.__slots__])
    assert ALPHA not in held
    assert ALPHA.encode().hex() not in held
    assert ALPHA not in repr(memo.for_key(ALPHA))
    assert other.for_key(ALPHA).get("categories") is None  # each memo draws its own secret


def test_the_memo_is_bounded_in_keys_and_in_lists_per_key() -> None:
    memo = ListCounts(max_keys=2, max_lists_per_key=2)
    alpha = memo.for_key(ALPHA)
    alpha.learn("a", 1)
    alpha.learn("b", 2)
    alpha.learn("c", 3)  # the least recently used list goes
    assert (alpha.get("a"), alpha.get("b"), alpha.get("c")) == (None, 2, 3)

    memo.for_key(BETA).learn("a", 1)
    alpha.get("b")  # alpha used last
    memo.for_key("third key").learn("a", 1)  # the least recently used key goes
    assert memo.for_key(BETA).get("a") is None
    assert alpha.get("b") == 2


def test_a_client_keeps_one_memo_for_its_sessions() -> None:
    client = UpstreamClient(UpstreamSettings("https://api.example.invalid/api/v1"))
    client.list_counts.for_key(ALPHA).learn("x", 5)
    assert client.list_counts.for_key(ALPHA).get("x") == 5
    assert "x" not in repr(client.list_counts)
