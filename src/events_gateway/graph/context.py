"""One context per GraphQL request: fresh loaders over the caller's upstream session, and the calls it cost.

Nothing here outlives the request but what is filed under the caller's own key: the list sizes the
planner remembers (``UpstreamClient.list_counts``) and the cache of upstream answers, which sits under the
session and files every answer under the caller's key hash. So no caller ever reads another's data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

from strawberry.extensions import SchemaExtension

from ..cache import Cache
from ..settings import Settings
from ..upstream import UpstreamCall, UpstreamClient
from .loaders import Loaders


@dataclass(slots=True)
class GraphContext:
    """What resolvers see as ``info.context``.

    Attributes:
        request_id: names the request in logs and in masked errors.
        settings: the gateway's settings.
        loaders: this request's loaders and resource store, over the upstream session bound to the
            caller's key; without a key, every field that needs the upstream fails with
            ``UNAUTHENTICATED`` without calling it.
        calls: every upstream exchange this request made, in the order they ended.
        batched: the operations of one batched request share this context, so its loaders and its cost
            budget: the loaders are released by whoever runs the batch, once every operation has run.
        predicted_calls: upstream calls predicted for the operations admitted so far, all of a batch's
            together, held within ``max_cost`` (``limits``).
    """

    request_id: str
    settings: Settings
    loaders: Loaders
    calls: list[UpstreamCall] = field(default_factory=list)
    batched: bool = False
    predicted_calls: int = 0


def make_context(
    *,
    client: UpstreamClient,
    api_key: str | None,
    settings: Settings,
    request_id: str,
    cache: Cache | None = None,
    read_through: bool = False,
) -> GraphContext:
    """A fresh context for one request, bound to ``api_key`` (call it inside the running event loop).

    With ``cache``, the session's GETs are answered from it when they may be (``read_through``: the
    caller sent ``Cache-Control: no-cache``, so every GET asks the upstream and refiles its answer).

    Example::

        context = make_context(client=client, api_key=key, settings=settings, request_id="r-1")
        result = await schema.execute(query, context_value=context)
    """
    calls: list[UpstreamCall] = []
    session = (
        client.session(api_key, observer=calls.append, cache=cache, read_through=read_through)
        if api_key
        else None
    )
    counts = client.list_counts.for_key(api_key) if api_key and settings.plan_ahead else None
    loaders = Loaders(session=session, settings=settings, loop=asyncio.get_running_loop(), counts=counts)
    return GraphContext(request_id=request_id, settings=settings, loaders=loaders, calls=calls)


class ReleaseLoaders(SchemaExtension):
    """Once the operation has run, release what its loaders hold (see ``Loaders.release``), unless other
    operations of its batch still read them."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, GraphContext) and not context.batched:
            context.loaders.release()
