"""The upstream's page envelope: DRF page-number pagination plus Secoda's ``links``/``meta`` wrapper.

``{"links": {"next", "previous"}, "meta": {"page", "previous_page", "next_page"}, "count",
"total_pages", "resource_totals": {}, "results"}``. Links are absolute URLs built from the request's own
host and query, so a client can follow them as they are. A page past the end, or one that is not a whole
positive number, answers ``404 {"detail": "Invalid page."}`` as DRF does; page 1 of an empty list is fine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import INVALID_PAGE, NotFoundError

#: DRF accepts this word for the last page.
LAST_PAGE = "last"


@dataclass(frozen=True, slots=True)
class Window:
    page: int
    total_pages: int
    offset: int
    limit: int


def window(request: web.Request, count: int, page_size: int) -> Window:
    """Which slice of ``count`` results the request's ``page`` asks for."""
    total_pages = max(1, math.ceil(count / page_size))
    raw = request.query.get("page", "1")
    if raw == LAST_PAGE:
        page = total_pages
    else:
        try:
            page = int(raw)
        except ValueError:
            raise NotFoundError(INVALID_PAGE) from None
    if page < 1 or page > total_pages:
        raise NotFoundError(INVALID_PAGE)
    offset = (page - 1) * page_size
    return Window(
        page=page, total_pages=total_pages, offset=offset, limit=max(0, min(page_size, count - offset))
    )


def _link(request: web.Request, page: int) -> str:
    url = request.url
    if page == 1:
        return str(url.without_query_params("page"))
    return str(url.update_query(page=page))


def envelope(request: web.Request, count: int, win: Window, results: Sequence[object]) -> dict[str, Any]:
    previous_page = win.page - 1 if win.page > 1 else None
    next_page = win.page + 1 if win.page < win.total_pages else None
    return {
        "links": {
            "next": None if next_page is None else _link(request, next_page),
            "previous": None if previous_page is None else _link(request, previous_page),
        },
        "meta": {"page": win.page, "previous_page": previous_page, "next_page": next_page},
        "count": count,
        "total_pages": win.total_pages,
        "resource_totals": {},
        "results": results,
    }


def paginate(
    request: web.Request,
    count: int,
    page_size: int,
    fetch: Callable[[int, int], Sequence[object]],
) -> dict[str, Any]:
    """The envelope for one page; ``fetch(limit, offset)`` reads that page's rows."""
    win = window(request, count, page_size)
    results = fetch(win.limit, win.offset) if win.limit else []
    return envelope(request, count, win, results)
