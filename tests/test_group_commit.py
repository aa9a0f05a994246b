"""Group commit (store/group_commit.py) on real databases: units from several threads share
transactions, each result is handed back only once committed, a failing unit is rolled back
alone, a failed COMMIT fails every unit of its batch."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from soapgw.store.database import make_engine, writer_lock
from soapgw.store.group_commit import GroupCommit


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    with engine.begin() as db:
        db.execute(text("CREATE TABLE unit_row (id INTEGER PRIMARY KEY, thread INTEGER)"))
    yield engine
    engine.dispose()


def _rows(engine) -> set[int]:
    with engine.connect() as db:
        return {row[0] for row in db.execute(text("SELECT id FROM unit_row"))}


class Refused(Exception):
    pass


def test_units_of_many_threads_share_transactions_and_fail_alone(engine):
    group = GroupCommit(engine, writer_lock(engine))
    gate = threading.Barrier(8)
    committed_when_answered: dict[int, bool] = {}
    refused: set[int] = set()

    def work(key: int):
        def unit(db):
            if key == 0:
                time.sleep(0.3)  # hold the first batch while the other threads queue up
            db.execute(text("INSERT INTO unit_row (id, thread) VALUES (:id, :id)"), {"id": key})
            if key % 5 == 3:
                raise Refused(key)  # rolled back to its savepoint: its row must go
            return key
        return unit

    def thread(number: int):
        gate.wait(5)
        if number:
            time.sleep(0.05)  # after thread 0's first unit took the lead
        for round_ in range(10):
            key = number * 100 + round_
            try:
                assert group.run(work(key)) == key
                # handed back only after the COMMIT: another connection sees the row
                committed_when_answered[key] = key in _rows(engine)
            except Refused:
                refused.add(key)

    threads = [threading.Thread(target=thread, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    keys = {number * 100 + round_ for number in range(8) for round_ in range(10)}
    assert refused == {key for key in keys if key % 5 == 3}
    assert set(committed_when_answered) == keys - refused
    assert all(committed_when_answered.values())
    assert _rows(engine) == keys - refused  # the refused units left nothing behind
    assert group.units == 80
    assert group.batches < 80  # units did share transactions


def test_a_lone_unit_runs_without_a_savepoint_and_rolls_back_whole(engine):
    group = GroupCommit(engine)

    def unit(db):
        db.execute(text("INSERT INTO unit_row (id, thread) VALUES (1, 1)"))
        raise Refused("no")

    with pytest.raises(Refused):
        group.run(unit)
    assert _rows(engine) == set()
    assert group.run(lambda db: db.execute(
        text("INSERT INTO unit_row (id, thread) VALUES (2, 2)")).rowcount) == 1
    assert _rows(engine) == {2}
    assert (group.batches, group.units) == (2, 2)


def test_a_failed_commit_fails_every_unit_of_the_batch(sqlite_url):
    """A deferred foreign-key violation makes the COMMIT fail: no unit of that batch may be
    answered as if stored, and the batch before it is not touched."""
    engine = make_engine(sqlite_url)
    with engine.begin() as db:
        db.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        db.execute(text("CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER "
                        "REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"))
    group = GroupCommit(engine)
    results: dict[str, object] = {}

    def first(db):  # a batch of its own, held while the next two queue up together
        time.sleep(0.3)
        db.execute(text("INSERT INTO parent (id) VALUES (1)"))
        return "first"

    def bad(db):
        db.execute(text("INSERT INTO child (id, parent) VALUES (1, 99)"))  # fails at COMMIT
        return "bad"

    def good(db):
        db.execute(text("INSERT INTO parent (id) VALUES (7)"))
        return "good"

    def run(name, unit):
        try:
            results[name] = group.run(unit)
        except Exception as error:  # noqa: BLE001
            results[name] = error

    threads = [threading.Thread(target=run, args=("first", first))]
    threads[0].start()
    time.sleep(0.1)
    for name, unit in (("bad", bad), ("good", good)):
        threads.append(threading.Thread(target=run, args=(name, unit)))
        threads[-1].start()
        time.sleep(0.02)
    for t in threads:
        t.join(10)
    assert results["first"] == "first"
    assert isinstance(results["bad"], Exception) and isinstance(results["good"], Exception)
    assert (group.batches, group.units) == (2, 3)
    with engine.connect() as db:
        assert db.execute(text("SELECT id FROM parent")).scalars().all() == [1]
        assert db.execute(text("SELECT count(*) FROM child")).scalar() == 0
    engine.dispose()


def test_sqlite_batches_share_one_kept_connection_until_a_commit_fails(sqlite_url):
    """On an SQLite file the batches run on one connection kept by the GroupCommit (no pool
    checkout per message); a unit's own error leaves it in use, a failed COMMIT gives it back to
    the pool (which resets it) and the next batch takes one anew, and the batches after
    either still commit."""
    engine = make_engine(sqlite_url)
    with engine.begin() as db:
        db.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        db.execute(text("CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER "
                        "REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"))
    group = GroupCommit(engine, writer_lock(engine))

    def insert(key: int):
        def unit(db):
            db.execute(text("INSERT INTO parent (id) VALUES (:id)"), {"id": key})
            return db
        return unit

    def refused(db):
        db.execute(text("INSERT INTO parent (id) VALUES (50)"))
        raise Refused("no")

    def failing_commit(db):
        db.execute(text("INSERT INTO child (id, parent) VALUES (1, 99)"))  # fails at COMMIT

    first, second = group.run(insert(1)), group.run(insert(2))
    assert first is second
    with pytest.raises(Refused):
        group.run(refused)
    assert group.run(insert(3)) is first  # rolled back, still the same connection
    with pytest.raises(IntegrityError):
        group.run(failing_commit)
    assert group.run(insert(4)) is not first  # given back to the pool (reset), another taken
    with engine.connect() as db:
        assert db.execute(text("SELECT id FROM parent ORDER BY id")).scalars().all() == \
            [1, 2, 3, 4]
        assert db.execute(text("SELECT count(*) FROM child")).scalar() == 0
    engine.dispose()
