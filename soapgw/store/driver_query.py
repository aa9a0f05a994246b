"""A Core statement run straight through the driver, for the statements on the path of most
messages (the station's UPDATE ... RETURNING at the gate; look-ups of a connector, a tag, a
transaction, a connector's latest status).

SQLAlchemy's execution of a Core statement costs about 100 µs of Python per call here (cache
key, parameters, result set-up for 15 columns) against about 15 µs for the driver's own work,
and a message pays it inside the write lock; ``exec_driver_sql`` saves nothing for a statement
that returns rows (it describes the result columns anew at every call). So the statement is
compiled once per dialect and run on the driver's cursor; each call binds the parameters and
reads the rows through the column types' own processors, so that values go in and come out
exactly as ``connection.execute(statement)`` would have them (tests/test_driver_query.py).
The driver's errors are raised as SQLAlchemy's (DBAPIError and its kinds), as from execute.
SQLAlchemy's cursor events do not see these statements. (Inserts of many rows on the same
path: store.types.DriverInsert.)
"""
from __future__ import annotations

import weakref
from collections import namedtuple
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.sql.expression import Executable

from soapgw.store import driver_cursor
from soapgw.store.database import Db, connection_of


@dataclass(frozen=True)
class _Plan:
    """The statement as one dialect runs it."""

    sql: str
    positional: bool
    fixed: dict[str, Any]  # the statement's own values (``values(status="Accepted")``)
    # each parameter and its type's processor: in the driver's order when positional (a name
    # may come twice), else once per name
    binds: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    results: tuple[Callable[[Any], Any] | None, ...]  # per returned column
    row_type: type  # a named tuple of the returned columns (row.id, as SQLAlchemy's rows)

    def parameters(self, values: dict) -> tuple | dict:
        given = {**self.fixed, **values} if self.fixed else values
        try:
            bound = [(name, given[name] if process is None else process(given[name]))
                     for name, process in self.binds]
        except KeyError as missing:
            raise ValueError(f"no value for the parameter {missing}") from None
        return tuple(value for _name, value in bound) if self.positional else dict(bound)

    def row(self, raw: tuple) -> tuple:
        return self.row_type._make(value if process is None or value is None else
                                   process(value)
                                   for process, value in zip(self.results, raw))


def bound(*names: str) -> dict:
    """Each column's value given at each call, as ``b_<name>``: the values of an INSERT or an
    UPDATE for DriverQuery (a bind parameter may not carry its column's own name there)."""
    return {name: bindparam(f"b_{name}") for name in names}


class DriverQuery:
    """``statement`` (with named ``bindparam`` parameters; selecting or returning columns, or
    not) compiled once per dialect and run on the driver's cursor. ``build(db)`` instead of a
    statement: one built for each dialect (store.upsert.PerDialect, for ON CONFLICT)."""

    def __init__(self, statement: Executable | None = None, *,
                 build: Callable[[Db], Executable] | None = None):
        if (statement is None) == (build is None):
            raise TypeError("give a statement or a build function")
        self.statement = statement
        self._build = build
        self._plans: weakref.WeakKeyDictionary[Dialect, _Plan] = weakref.WeakKeyDictionary()

    def rows(self, db: Db, values: dict) -> list[tuple]:
        """The rows, as named tuples (none for a statement that returns none)."""
        connection = connection_of(db)
        plan = self._plan_for(connection)
        found = driver_cursor.on_driver(connection, plan.sql, plan.parameters(values))
        return [plan.row(raw) for raw in found]

    def execute_many(self, db: Db, many: list[dict]) -> None:
        """The statement once per parameter set, in one ``executemany`` (it returns nothing)."""
        connection = connection_of(db)
        plan = self._plan_for(connection)
        if plan.results:
            raise TypeError("execute_many runs statements that return no rows")
        driver_cursor.on_driver(connection, plan.sql,
                                [plan.parameters(values) for values in many], many=True)

    def _plan_for(self, connection) -> _Plan:
        plan = self._plans.get(connection.dialect)
        if plan is None:
            statement = self.statement if self._build is None else self._build(connection)
            plan = self._plans[connection.dialect] = self._plan(statement, connection.dialect)
        return plan

    def one_or_none(self, db: Db, values: dict) -> tuple | None:
        found = self.rows(db, values)
        if len(found) > 1:
            raise MultipleResultsFound(f"{len(found)} rows where at most one was expected")
        return found[0] if found else None

    def one(self, db: Db, values: dict) -> tuple:
        found = self.one_or_none(db, values)
        if found is None:
            raise NoResultFound("no row where one was expected")
        return found

    def scalar(self, db: Db, values: dict):
        """The first column of the first row, None when there is none."""
        found = self.rows(db, values)
        return found[0][0] if found else None

    @staticmethod
    def _plan(statement: Executable, dialect: Dialect) -> _Plan:
        compiled = statement.compile(dialect=dialect)
        if compiled.insert_prefetch or compiled.update_prefetch:
            # SQLAlchemy computes these per execution (default=now, onupdate=...)
            raise TypeError("a statement that fills columns from Python-side defaults "
                            "cannot run through DriverQuery: "
                            + ", ".join(column.name for column in
                                        (*compiled.insert_prefetch, *compiled.update_prefetch)))
        positional = bool(compiled.positional)
        # bind_names: each parameter under the name the SQL gives it (a literal's is made up)
        processors = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                      for bind, name in compiled.bind_names.items()}
        binds = tuple((name, processors[name]) for name in
                      (compiled.positiontup if positional else processors))
        required = {name for bind, name in compiled.bind_names.items() if bind.required}
        fixed = {name: value for name, value in compiled.params.items()
                 if name not in required}
        results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                        for column in statement.exported_columns)
        row_type = namedtuple("Row", [column.name for column in statement.exported_columns],
                              rename=True)
        return _Plan(compiled.string, positional, fixed, binds, results, row_type)
