"""gunicorn's settings for casemgr in production:

    gunicorn -c python:casemgr.gunicorn_conf casemgr.wsgi:app

Threaded workers (gthread): a page spends much of its time waiting for PostgreSQL, and
a sign-in's password check (argon2, which releases the GIL) runs beside the pages
instead of blocking a whole worker. The worker processes share one limit on how many
checks run at once, half the cores (at least one), so that a burst of sign-ins leaves
the other half to the pages: locks on slot files in the data folder, which the kernel
gives back when a worker is killed (casemgr/passwords.py). One process per core, a few
threads each; measured on two cores with tests/perf/load.py.

Environment: CASEMGR_BIND (default 127.0.0.1:8000; behind a reverse proxy), WEB_CONCURRENCY
(processes; default one per core), CASEMGR_THREADS (threads per process; default 4).
Flags given on the command line win over this file.
"""
import os

bind = os.environ.get("CASEMGR_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 2)
threads = int(os.environ.get("CASEMGR_THREADS") or 4)
# a worker silent this long is restarted; an import upload can take a while to receive
timeout = 120
keepalive = 5
# each worker makes its own app and database pool (a pool must not cross a fork)
preload_app = False
accesslog = None  # casemgr writes its own request line (casemgr.requests)

# password checks at once across all the workers (slot files in the data folder)
password_checks = max(1, (os.cpu_count() or 2) // 2)


def post_fork(server, worker):
    from casemgr import passwords

    passwords.set_hashing_limit(password_checks)
