"""`casemgr backup` and `casemgr restore`: the database as one file, with PostgreSQL's
own pg_dump and pg_restore (custom format: compressed, restorable table by table).

The tools are taken from the embedded server's own installation when it has them (the
same PostgreSQL version as the server), else from the PATH. They connect with the
app's database URL, the embedded server's Unix socket included."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import sqlalchemy as sa


class BackupError(RuntimeError):
    """A backup or restore that could not be done, in one line."""


def tool(name: str) -> str:
    """The path of pg_dump, pg_restore or psql: the embedded server's, else the PATH's."""
    try:
        import pgserver

        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / name
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    except ImportError:  # pragma: no cover - pgserver is a dependency
        pass
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: install PostgreSQL's client tools (the same major version as the server)")
    return found


def connection_arguments(url: sa.URL) -> tuple[list[str], dict[str, str]]:
    """pg_dump/pg_restore arguments and environment for a SQLAlchemy URL: the password
    goes in PGPASSWORD, never on the command line."""
    args = []
    if url.host:
        args += ["--host", url.host]
    elif url.query.get("host"):
        args += ["--host", str(url.query["host"])]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env)
    except OSError as error:
        raise BackupError(f"{what} could not start: {error.strerror}") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise BackupError(f"{what} failed: {lines[0] if lines else f'exit code {done.returncode}'}")


def backup(url: sa.URL, target: Path) -> int:
    """Write the whole database to `target` (pg_dump's custom format); returns its size.
    Written beside the target first, so an interrupted backup never leaves half a file
    under the target's name."""
    args, env = connection_arguments(url)
    partial = target.with_name(target.name + ".partial")
    _run([tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(partial), *args,
          url.database or "postgres"], env, "pg_dump")
    partial.replace(target)
    return target.stat().st_size


def restore(url: sa.URL, source: Path) -> None:
    """Replace the database's contents with a backup: every object of the backup is
    dropped and made again, in one transaction (all or nothing).

    pg_restore's own --clean cannot drop the indexes of a partitioned table's partitions
    (the disclosure log's: "cannot drop index ... because index ... requires it"): they
    go with their parent's index. So the backup is read as pg_restore's SQL script, the
    statements that drop the partitions' own indexes and keys are left out of its
    cleaning part, and psql runs it in one transaction, stopping at the first error."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    args, env = connection_arguments(url)
    _run([tool("pg_restore"), "--list", str(source)], env, f"{source.name} is not a casemgr backup: pg_restore")
    script = subprocess.Popen(
        [tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges", "--file", "-", str(source)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        runner = subprocess.Popen(
            [tool("psql"), "--no-psqlrc", "--quiet", "--single-transaction", "--set", "ON_ERROR_STOP=1",
             "--dbname", url.database or "postgres", *args],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    except OSError as error:
        script.kill()
        raise BackupError(f"psql could not start: {error.strerror}") from None
    cleaning = True
    for line in script.stdout:
        if cleaning and line.startswith((b"CREATE ", b"COPY ")):
            cleaning = False
        if cleaning and line.startswith(PARTITION_DROPS):
            continue
        runner.stdin.write(line)
    runner.stdin.close()
    errors = runner.stderr.read().decode(errors="replace")
    read = script.stderr.read().decode(errors="replace")
    if script.wait() != 0:
        runner.wait()
        lines = [line for line in read.strip().splitlines() if line.strip()]
        raise BackupError(f"pg_restore failed: {lines[0] if lines else f'exit code {script.returncode}'}")
    if runner.wait() != 0:
        lines = [line for line in errors.strip().splitlines() if line.strip()]
        raise BackupError(f"restore failed: {lines[0] if lines else f'exit code {runner.returncode}'}")


# the statements of the cleaning part that drop a partition's own index or key
PARTITION_DROPS = (b"DROP INDEX IF EXISTS disclosure_partitions.",
                   b"ALTER TABLE IF EXISTS ONLY disclosure_partitions.")
