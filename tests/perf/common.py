"""Shared set-up for the benchmark scripts: a seeded database of a given size, kept
between runs, and timing helpers. Benchmarks are run by hand, never by pytest."""
from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from datetime import date

import sqlalchemy as sa
from flask_migrate import upgrade

from casemgr import create_app
from casemgr.clock import today
from casemgr.config import data_dir


def perf_app(students: int, database_url: str | None = None, as_of: date | None = None):
    """An app on a database holding a seeded district of `students` students as of a
    date (default today); seeded on first use (a minute at 50,000), reused afterwards."""
    as_of = as_of or today()
    if database_url is None:
        from casemgr import embedded_db

        name = f"casemgr_perf_{students}" + ("" if as_of == today() else f"_{as_of:%Y%m%d}")
        database_url = embedded_db.start(data_dir() / "embedded", database=name)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        from casemgr.seed import generator

        if generator.database_is_empty():
            started = time.perf_counter()
            print(f"seeding {students:,} students (once) ...", flush=True)
            generator.generate(students=students, seed=1, as_of=as_of)
            print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
    return app


class QueryCounter:
    def __init__(self, engine):
        self.engine = engine
        self.count = 0

    def _count(self, *args, **kwargs):
        self.count += 1

    @contextmanager
    def counting(self):
        self.count = 0
        sa.event.listen(self.engine, "before_cursor_execute", self._count)
        try:
            yield self
        finally:
            sa.event.remove(self.engine, "before_cursor_execute", self._count)


def queries_of(app, client, path: str) -> int:
    """How many SQL statements one GET of `path` runs (after a first one, not counted)."""
    from casemgr.extensions import db

    assert client.get(path).status_code == 200, path
    with app.app_context():
        counter = QueryCounter(db.engine)
        with counter.counting():
            client.get(path)
    return counter.count


def median_ms(action, runs: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        action()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def measure_page(app, client, path: str, name: str, runs: int, queries_target: str) -> list[tuple[str, str, str]]:
    """The SQL statements of one request of `path` (after one to warm up) and its median
    server time, as two rows of `print_table`."""
    return [(f"{name}: SQL queries", str(queries_of(app, client, path)), queries_target),
            (f"{name}: median", f"{median_ms(lambda: client.get(path), runs):.2f} ms", "≤ 30 ms")]


def print_table(title: str, rows: list[tuple[str, str, str]]) -> None:
    print(f"\n{title}")
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'result':>12}  target")
    for name, result, target in rows:
        print(f"{name:<{width}}  {result:>12}  {target}")
