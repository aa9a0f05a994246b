"""Cursor pagination on ids (keyset): a page is "ids below (or above) the cursor", so rows
inserted meanwhile never shift a page, and page 1,000 costs what page 1 does."""
from __future__ import annotations

from flask import request, url_for
from sqlalchemy import Select



def encode_cursor(last_id: int) -> str:
    return str(last_id)


def decode_cursor(cursor: str | None) -> int | None:
    """The id a page starts after (the query model checks the form: digits)."""
    return int(cursor) if cursor else None


def keyset(db, query: Select, id_column, limit: int, cursor: str | None,
           descending: bool = True, last=None) -> tuple[list, str | None]:
    """One page of ``query`` ordered by ``id_column``; returns the rows and the next cursor."""
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(id_column < after if descending else id_column > after)
    query = query.order_by(id_column.desc() if descending else id_column.asc())
    rows = db.execute(query.limit(limit + 1)).all()
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    # ``last``: the id of a row, when the query selects whole entities
    return rows, encode_cursor(last(rows[-1]) if last else getattr(rows[-1], id_column.key))


def page(items: list, next_cursor: str | None) -> dict:
    """The page envelope, with links to this page and the next."""
    args = request.args.to_dict(flat=False)
    links = {"self": request.full_path.rstrip("?")}
    if next_cursor:
        args["cursor"] = [next_cursor]
        links["next"] = url_for(request.endpoint, **(request.view_args or {}), **args)
    return {"items": items, "nextCursor": next_cursor, "links": links}
