"""A DuckDB connection that can only see the files of one import.

Imports run user-supplied files through DuckDB. The connection may read
the input file and the import's own working folders and nothing else: no
other files, no network, no extensions loaded or installed behind our
back, and the settings are locked so a query cannot loosen them. A timer
interrupts anything that runs for too long.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis

from creditokr.creditdata.ingest.errors import ImportTimeout

DEFAULT_TIMEOUT = 300.0


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_sql_string(v) for v in values) + "]"


def restricted_connection(
    files: Sequence[Path], folders: Sequence[Path], spill: Path
) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB that can reach only `files` and `folders`.

    `spill` is where DuckDB may write temporary data; it must be inside one
    of `folders`.
    """
    con = duckdb.connect(
        ":memory:",
        config={
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
            "allow_community_extensions": False,
        },
    )
    # The allow-lists can only be set once the database runs, and must be
    # set before external access is switched off.
    paths = [str(p.resolve()) for p in files]
    dirs = [str(p.resolve()) + "/" for p in folders]
    con.execute(f"SET allowed_paths = {_sql_list(paths)}")
    con.execute(f"SET allowed_directories = {_sql_list(dirs)}")
    con.execute(f"SET temp_directory = {_sql_string(str(spill))}")
    con.execute("SET enable_external_access = false")
    return con


def ibis_backend(con: duckdb.DuckDBPyConnection) -> Any:
    """Wrap `con` for Ibis, then lock its configuration.

    Ibis sets the time zone when it takes over a connection, so the lock
    comes after it.
    """
    backend = ibis.duckdb.from_connection(con)
    con.execute("SET lock_configuration = true")
    return backend


@contextmanager
def time_limit(con: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[None]:
    """Interrupt whatever `con` is running once `seconds` have passed."""
    fired = threading.Event()

    def interrupt() -> None:
        fired.set()
        con.interrupt()

    timer = threading.Timer(seconds, interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    except duckdb.InterruptException as exc:
        raise ImportTimeout(
            f"Reading the data took longer than {seconds:g} seconds and was stopped."
        ) from exc
    finally:
        timer.cancel()
