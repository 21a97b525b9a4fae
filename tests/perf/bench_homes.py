"""Benchmark of the homes as work queues (issue 14, item 1).

    python -m tests.perf.bench_homes [--students 50000] [--runs 50]

Seeds (once) a district as of today (the seed recomputes the indicators at earlier days
too, so the tier history has real changes), then measures each school role's home:
its median server time and its SQL statements, for the demo counselor, principal,
teacher, district admin, youth worker and partner admin; the counselor's also with
changes since 90 days back. A home builds its statements on a user's first visit of the
day and reuses them after (`casemgr.statement_cache`): each is also timed with its
statements built anew, as on that first visit. For reference on the same machine at the
same moment, the counselor's caseload page (SPEC §8: ≤ 30 ms) is timed alongside.
"""
from __future__ import annotations

import argparse
from datetime import timedelta

from casemgr import statement_cache
from casemgr.clock import today
from tests.perf.bench_policy import signed_in_client
from tests.perf.common import measure_page, median_ms, perf_app, print_table

HOMES = [
    ("counselor@example.org", ""),
    ("counselor@example.org", "?since={long_ago}"),
    ("principal@example.org", ""),
    ("teacher@example.org", ""),
    ("admin@example.org", ""),
    ("worker@example.org", ""),
    ("partner@example.org", ""),
]
REFERENCE = ("counselor@example.org", "/caseload")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    app = perf_app(args.students)
    long_ago = (today() - timedelta(days=90)).isoformat()
    rows = []
    reference = signed_in_client(app, REFERENCE[0])
    reference_ms = median_ms(lambda: reference.get(REFERENCE[1]), args.runs)
    rows.append(("caseload counselor (reference): median", f"{reference_ms:.2f} ms", "≤ 30 ms"))
    for email, query in HOMES:
        client = signed_in_client(app, email)
        path = f"/{query.format(long_ago=long_ago)}"  # its first request records a partner's visit of the day
        name = f"home {email.split('@')[0]} {query.format(long_ago='<90 days ago>') or '(default)'}"
        rows += measure_page(app, client, path, name, args.runs, "fixed")
        rows.append((f"{name}, its statements built anew: median",
                     f"{median_ms(lambda: (statement_cache.clear(), client.get(path)), args.runs // 2):.2f} ms",
                     "the first visit of the day"))
    print_table(f"Homes at {args.students:,} students, as of {today()}", rows)


if __name__ == "__main__":
    main()
