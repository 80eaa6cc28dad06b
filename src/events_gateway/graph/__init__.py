"""The GraphQL layer: the schema, one context per request, and the loaders that batch upstream calls.

Example::

    schema = build_schema(settings)
    context = make_context(client=client, api_key=key, settings=settings, request_id="r-1")
    result = await schema.execute("{ eventCategories { nodes { title } } }", context_value=context)
"""

from .codes import ErrorCode
from .context import GraphContext, make_context
from .errors import GraphError, InvalidInput, MissingKey, MissingObject
from .live import LiveEvent, LiveRequest, LiveSource
from .masking import ErrorMasking
from .schema import build_schema
from .writes import Write, report_write, write_listener

__all__ = [
    "ErrorCode",
    "ErrorMasking",
    "GraphContext",
    "GraphError",
    "InvalidInput",
    "LiveEvent",
    "LiveRequest",
    "LiveSource",
    "MissingKey",
    "MissingObject",
    "Write",
    "build_schema",
    "make_context",
    "report_write",
    "write_listener",
]
