"""An in-memory DuckDB that can read only the Parquet files it is given.

Imported data is stored as canonical Parquet. KPIs over it run in a fresh
in-memory DuckDB per computation, locked down so that a query can reach no
other file, no network address and no extension, and interrupted when it
runs past its time limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis

from creditokr.creditdata.engine.contract import Filters, Period, SeriesPoint
from creditokr.creditdata.engine.kpis import KPI
from creditokr.creditdata.engine.kpis.base import NO_FILTERS

INTERRUPT_EVERY = 0.05  # seconds between interrupts once the time is up


class QueryTimeout(RuntimeError):
    """A KPI computation ran longer than its time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the computation took longer than {seconds:g} seconds")
        self.seconds = seconds


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _lock_down(raw: Any, paths: Sequence[Path], threads: int | None) -> None:
    listed = ", ".join(_quote(str(path)) for path in paths)
    statements = [
        f"SET allowed_paths = [{listed}]",
        "SET allowed_directories = []",
        "SET enable_external_access = false",
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
    ]
    if threads:
        statements.append(f"SET threads = {int(threads)}")
    statements.append("SET lock_configuration = true")
    for statement in statements:
        raw.execute(statement)


class _Watchdog:
    """Interrupts the connection repeatedly once the deadline has passed."""

    def __init__(self, raw: Any, seconds: float) -> None:
        self.raw = raw
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.expired = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> _Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        if self._stop.wait(max(self.deadline - time.monotonic(), 0)):
            return
        self.expired = True
        while not self._stop.is_set():
            self.raw.interrupt()
            self._stop.wait(INTERRUPT_EVERY)


@contextmanager
def open_files(
    files: Mapping[str, Path], *, timeout: float = 60, threads: int | None = None
) -> Iterator[Mapping[str, Any]]:
    """Ibis tables over the given Parquet files, keyed like `files`.

    Only these files can be read through the connection. Queries still
    running `timeout` seconds after entry are interrupted and QueryTimeout
    is raised.
    """
    paths = {key: Path(path).resolve() for key, path in files.items()}
    for key, path in paths.items():
        if not path.is_file():
            raise FileNotFoundError(f"the {key} data file {path} does not exist")
    raw = duckdb.connect(":memory:")
    con = ibis.duckdb.from_connection(raw)
    try:
        _lock_down(raw, list(paths.values()), threads)
        tables = {
            key: con.read_parquet(path, table_name=f"data_{index}")
            for index, (key, path) in enumerate(paths.items())
        }
        with _Watchdog(raw, timeout) as watchdog:
            try:
                yield tables
            except duckdb.InterruptException:
                if watchdog.expired:
                    raise QueryTimeout(timeout) from None
                raise
            if watchdog.expired:
                raise QueryTimeout(timeout)
    finally:
        con.disconnect()


def run_kpi(
    kpi: KPI,
    files: Mapping[str, Path],
    settings: Mapping[str, Any],
    periods: Sequence[Period],
    filters: Filters = NO_FILTERS,
    *,
    timeout: float = 60,
) -> list[SeriesPoint]:
    """Compute a KPI series over Parquet files inside the sandbox."""
    with open_files(files, timeout=timeout) as tables:
        return kpi.series(tables, settings, periods, filters)
