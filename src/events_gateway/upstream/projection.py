"""List pages decoded with only the resource keys their reader needs.

A resource carries some forty-five keys; a query for a tree of titles reads a dozen of them (its own
fields and those the gateway reads itself). Decoding a page of fifty resources into full dicts, and
freeing them afterwards, was about a third of the CPU of such a query. A typed decoder (``msgspec``)
checks the whole body as JSON but builds only the keys it is given, and skips the others without
making a Python object of them.

A body that is not a page of objects (a bare list, ``results`` that is not an array of objects) is
decoded whole by ``orjson``, so that the envelope reader judges it exactly as it judges any other page;
a body that is not JSON fails the same way as before (``orjson.JSONDecodeError``), which the resilient
transport takes for a truncated answer. Only pages are projected: single objects, writes' answers and
error bodies are always decoded whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any, TypedDict, cast

import msgspec
import orjson

from ._envelope import ENVELOPE_KEYS
from .resilience import Decoder

__all__ = ["page_decoder"]

#: Distinct key sets kept with their decoder (documents differ; their key sets seldom do).
MAX_DECODERS = 256

_typed_dict = cast(Any, TypedDict)


def page_decoder(keys: Iterable[str]) -> Decoder:
    """A decoder of list pages whose resources keep only ``keys`` (every key present of them)."""
    return _decoder(frozenset(keys))


@lru_cache(maxsize=MAX_DECODERS)
def _decoder(keys: frozenset[str]) -> Decoder:
    resource: Any = _typed_dict("ProjectedResource", dict.fromkeys(sorted(keys), Any), total=False)
    envelope: dict[str, Any] = dict.fromkeys(ENVELOPE_KEYS, Any)
    page = _typed_dict("ProjectedPage", {**envelope, "results": list[resource]}, total=False)
    decoder = msgspec.json.Decoder(page)

    def decode(body: bytes) -> Any:
        try:
            return decoder.decode(body)
        except msgspec.DecodeError:  # not JSON, or not a page of objects: read whole, judged as always
            return orjson.loads(body)

    return decode
