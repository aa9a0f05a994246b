"""Pagination in SQL: LIMIT/OFFSET on the page's query, a COUNT on the same filters."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

PER_PAGE = 50
MAX_PAGE = 100_000  # nobody pages that far; it bounds the OFFSET a URL can ask for


@dataclass
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int | None  # None: not counted (huge tables), only "is there a next page"
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def pages(self) -> int | None:
        if self.total is None:
            return None
        return max(1, -(-self.total // self.per_page))

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.items else 0


def page_number() -> int:
    raw = request.args.get("page", "1")
    return min(int(raw), MAX_PAGE) if raw.isdigit() and int(raw) > 0 else 1


def paginate(db: Session, query: Select, *, count: bool = True, scalars: bool = False,
             per_page: int = PER_PAGE, count_query: Select | None = None) -> Page:
    """One page of ``query`` (which must be ordered); ``count`` adds the total, counted with
    ``count_query`` when given (a cheaper statement returning the same count)."""
    number = page_number()
    rows_query = query.limit(per_page + 1).offset((number - 1) * per_page)
    result = db.execute(rows_query)
    rows = list(result.scalars() if scalars else result)
    total = None
    if count and number == 1 and len(rows) <= per_page:
        total = len(rows)  # everything is on this page: no need to count
    elif count:
        total = db.scalar(count_query if count_query is not None else
                          select(func.count()).select_from(query.order_by(None).subquery()))
    return Page(rows[:per_page], number, per_page, total, len(rows) > per_page)

