"""How far a running import has come, and which running imports were interrupted.

An import's own transaction stays open, uncommitted, until the import ends, so nothing
it writes can be seen meanwhile. Its progress is therefore written by a thread of its
own, on a connection of its own, in a short transaction at most every `every` seconds
while something moves, and every `heartbeat` seconds even when nothing does (a long
merge). A batch still `running` whose heartbeat is older than IMPORT_STALE_AFTER
belongs to a process that ended without finishing it (killed, or its machine stopped):
the pages show it as interrupted at once, and the next import started from the command
line or the upload page records it so (`record_interrupted`).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from casemgr.models import ImportBatch
from casemgr.models.enums import ImportStatus

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=2)  # the default of IMPORT_STALE_AFTER
# the steps of an import, in order, as the batch's `phase` records them
PHASES = ("waiting", "reading", "checking", "merging", "recomputing", "done")
INTERRUPTED_MESSAGE = ("the import stopped before it finished: the process running it ended (stopped, killed or "
                       "restarted). Nothing of the file was written; import it again.")


@dataclass
class Progress:
    """What a progress listener (the command line's bar) is told."""

    bytes_total: int = 0
    bytes_done: int = 0
    rows_done: int = 0
    phase: str = "reading"
    started: float = field(default_factory=time.monotonic)

    @property
    def fraction(self) -> float:
        return min(self.bytes_done / self.bytes_total, 1.0) if self.bytes_total else 0.0

    def rows_per_second(self, now: float | None = None) -> float:
        elapsed = (now if now is not None else time.monotonic()) - self.started
        return self.rows_done / elapsed if elapsed > 0 else 0.0


Listener = Callable[[Progress], None]


class BatchProgress:
    """The progress of one import, told to its batch row and to an optional listener.

    `report` (the import's `ctx.progress`) only records the figures in memory and tells
    the listener; the writer thread started by `with` writes them. The bytes read never
    pass the file's size; a file read again (see staging.load) starts its figures again."""

    def __init__(self, engine: sa.Engine, batch_id: int, bytes_total: int, *, listener: Listener | None = None,
                 every: float = 0.5, heartbeat: float = 15.0) -> None:
        self.engine = engine
        self.batch_id = batch_id
        self.state = Progress(bytes_total=bytes_total)
        self.listener = listener
        self.every = every
        self.heartbeat = heartbeat
        self._lock = threading.Lock()
        self._changed = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._write_until_stopped, name=f"import-progress-{batch_id}",
                                        daemon=True)

    def report(self, *, bytes_done: int | None = None, rows_done: int | None = None,
               phase: str | None = None) -> None:
        with self._lock:
            state = self.state
            if bytes_done is not None:
                state.bytes_done = max(min(bytes_done, state.bytes_total), 0)
            if rows_done is not None:
                state.rows_done = max(rows_done, 0)
            if phase is not None and phase != state.phase:
                state.phase = phase
            self._changed = True
        if self.listener is not None:
            self.listener(state)

    def __enter__(self) -> BatchProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self._write()

    def _write_until_stopped(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.every):
            if self._changed or time.monotonic() - last >= self.heartbeat:
                self._write()
                last = time.monotonic()

    def _write(self) -> None:
        with self._lock:
            values = {"bytes_done": self.state.bytes_done, "rows_done": self.state.rows_done,
                      "phase": self.state.phase}
            self._changed = False
        table = ImportBatch.__table__
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
                conn.execute(table.update().where(table.c.id == self.batch_id, table.c.status == ImportStatus.RUNNING)
                             .values(**values, heartbeat_at=sa.func.now()))
        except sa.exc.SQLAlchemyError as error:  # progress is told as best it can be; the import goes on
            log.warning("the progress of import batch %s was not recorded: %s", self.batch_id, error)


def stale_after(config) -> timedelta:
    value = config.get("IMPORT_STALE_AFTER", STALE_AFTER)
    return value if isinstance(value, timedelta) else timedelta(seconds=float(value))


def heartbeat_every(config) -> float:
    """Four heartbeats fit in the time after which a silent import counts as interrupted."""
    return min(15.0, stale_after(config).total_seconds() / 4)


def is_stale(batch: ImportBatch, limit: timedelta, now: datetime | None = None) -> bool:
    last = batch.heartbeat_at or batch.started_at
    return last is not None and last < (now or datetime.now(timezone.utc)) - limit


def shown_status(batch: ImportBatch, limit: timedelta) -> str:
    """The batch's status as the pages show it: `interrupted` for a running batch whose
    process has ended, before any import has recorded it so."""
    if batch.status == ImportStatus.RUNNING and is_stale(batch, limit):
        return ImportStatus.INTERRUPTED
    return batch.status


def shown_status_sql(limit: timedelta) -> sa.ColumnElement[str]:
    """`shown_status` in SQL, to count batches by it."""
    stale = sa.func.coalesce(ImportBatch.heartbeat_at, ImportBatch.started_at) < sa.func.now() - limit
    return sa.case((sa.and_(ImportBatch.status == ImportStatus.RUNNING, stale), ImportStatus.INTERRUPTED.value),
                   else_=ImportBatch.status)


def record_interrupted(session, limit: timedelta) -> list:
    """Record every running batch whose heartbeat is older than `limit` as interrupted,
    finished at its last heartbeat; returns their uuids. The caller commits."""
    last = sa.func.coalesce(ImportBatch.heartbeat_at, ImportBatch.started_at)
    result = session.execute(
        sa.update(ImportBatch)
        .where(ImportBatch.status == ImportStatus.RUNNING, last < sa.func.now() - limit)
        .values(status=ImportStatus.INTERRUPTED, finished_at=last, error_count=1,
                errors=[{"row": None, "column": None, "message": INTERRUPTED_MESSAGE}])
        .returning(ImportBatch.uuid)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())
