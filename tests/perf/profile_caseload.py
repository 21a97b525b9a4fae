"""Where a caseload request's time goes, through the Flask test client, signed in as
the counselor, on the load test's seeded district (tests/perf/load_setup.py):

    python -m tests.perf.profile_caseload [--students 50000] [--runs 200] [--path /caseload]

Prints the median time of the request, each SQL statement of one request with its
time, and cProfile's costliest functions over --runs requests (cumulative time),
after a warm-up. Run by hand.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

import sqlalchemy as sa

from casemgr.extensions import db
from tests.perf.bench_policy import signed_in_client
from tests.perf.common import median_ms


def statements_of_one_request(app, client, path: str) -> list[tuple[float, str]]:
    timings: list[tuple[float, str]] = []
    started: dict = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        started[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        elapsed = (time.perf_counter() - started.pop(id(cursor), time.perf_counter())) * 1000
        timings.append((elapsed, " ".join(statement.split())[:150]))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        assert client.get(path).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--path", default="/caseload")
    parser.add_argument("--email", default="counselor@example.org")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--sort", default="cumulative", help="cProfile's order: cumulative or tottime")
    args = parser.parse_args()
    from tests.perf.load_setup import database_urls

    app_url, _, _ = database_urls(args.students)
    from casemgr import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url, "REQUEST_LOG": True})
    import logging

    logging.getLogger("casemgr.requests").setLevel(logging.WARNING)  # timed, not printed
    client = signed_in_client(app, args.email)
    print(f"{args.path} as {args.email}: median {median_ms(lambda: client.get(args.path), args.runs, 20):.2f} ms "
          f"over {args.runs} requests")
    statements = statements_of_one_request(app, client, args.path)
    print(f"\n{len(statements)} SQL statements, {sum(t for t, _ in statements):.2f} ms in the database driver:")
    for elapsed, text in statements:
        print(f"  {elapsed:6.2f} ms  {text}")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.runs):
        client.get(args.path)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
