"""Paging over HTTP: ``?limit=&offset=`` query parameters, ``X-Total-Count`` and ``Link`` headers."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query, Request, Response

from service.core.paging import PageParams


async def page_params(
    limit: Annotated[int, Query(ge=1, le=100)] = 20, offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


def set_paging_headers(request: Request, response: Response, params: PageParams, total: int) -> None:
    """``X-Total-Count`` and RFC 8288 ``Link`` (first/prev/next/last), as the OB 3.0 REST API does."""
    response.headers["X-Total-Count"] = str(total)

    def url(offset: int) -> str:
        query = dict(request.query_params) | {"limit": str(params.limit), "offset": str(offset)}
        return f"{request.url.path}?{urlencode(query)}"

    last = max(0, (total - 1) // params.limit * params.limit)
    links = [f'<{url(0)}>; rel="first"', f'<{url(last)}>; rel="last"']
    if params.offset > 0:
        links.append(f'<{url(max(0, params.offset - params.limit))}>; rel="prev"')
    if params.offset + params.limit < total:
        links.append(f'<{url(params.offset + params.limit)}>; rel="next"')
    response.headers["Link"] = ", ".join(links)
