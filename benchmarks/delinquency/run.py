"""Benchmark: monthly 30+/60+/90+ delinquency over a large loan tape.

Generates a seeded account-snapshot Parquet file (canonical columns), then
computes the monthly delinquency series by count and by balance three
ways, each in its own subprocess so that peak memory is measured fairly:

- engine: the product's delinquency KPI through the DuckDB sandbox;
- pandas: read_parquet, boolean masks and groupby, as an analyst would;
- floor: one hand-written DuckDB SQL query.

Usage: .venv/bin/python benchmarks/delinquency/run.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

THRESHOLDS = (30, 60, 90)
MONTHS = 24
FIRST_MONTH = date(2024, 1, 1)
SEED = 20260301
Series = dict[str, dict[str, float]]  # "2024-01" -> {"count30": ..., ...}


def generate(path: Path, rows: int) -> None:
    """Write `rows` snapshots: rows / 24 accounts x 24 month ends."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    accounts = math.ceil(rows / MONTHS)
    rng = np.random.default_rng(SEED)
    month_ends = np.array([_month_end(i) for i in range(MONTHS)], dtype="datetime64[D]")
    segments = np.array(["retail", "sme", "cards", "mortgage"])
    schema = pa.schema(
        [
            ("account_id", pa.string()),
            ("as_of", pa.date32()),
            ("dpd", pa.int64()),
            ("balance", pa.decimal128(18, 4)),
            ("state", pa.string()),
            ("segment", pa.string()),
        ]
    )
    with pq.ParquetWriter(path, schema) as writer:
        written = 0
        for month in range(MONTHS):
            count = min(accounts, rows - written)
            if count <= 0:
                break
            ids = np.arange(count)
            dpd = np.where(rng.random(count) < 0.85, 0, rng.integers(1, 200, count))
            balance = rng.integers(-5_000, 250_000, count)
            roll = rng.random(count)
            state = np.where(
                roll < 0.02, "charged_off", np.where(roll < 0.05, "paid_off", "open")
            ).astype(object)
            state[roll > 0.97] = None
            table = pa.table(
                {
                    "account_id": pa.array(np.char.add("A", ids.astype(str))),
                    "as_of": pa.array(np.full(count, month_ends[month])),
                    "dpd": pa.array(dpd),
                    "balance": pa.array(balance.astype(np.int32)).cast(
                        pa.decimal128(18, 4)
                    ),
                    "state": pa.array(state, pa.string()),
                    "segment": pa.array(segments[ids % 4]),
                },
                schema=schema,
            )
            writer.write_table(table, row_group_size=1_000_000)
            written += count


def _month_end(index: int) -> str:
    from creditokr.creditdata.engine.periods import add_months, month_end

    year, month = add_months(FIRST_MONTH.year, FIRST_MONTH.month, index)
    return month_end(year, month).isoformat()


def run_engine(path: Path) -> Series:
    from creditokr.creditdata.engine.kpis import get_kpi
    from creditokr.creditdata.engine.periods import month_periods
    from creditokr.creditdata.engine.sandbox import open_files

    periods = month_periods(FIRST_MONTH, date.fromisoformat(_month_end(MONTHS - 1)))
    with open_files({"account_snapshots": path}, timeout=600) as tables:
        points = get_kpi("delinquency_rate").series(tables, {}, periods)
    series: Series = {}
    for point in points:
        rates = point.detail["by_threshold"]
        series[point.period.label] = {
            **{f"count{k}": rates[f"{k}+"]["count_rate"] for k in THRESHOLDS},
            **{f"balance{k}": rates[f"{k}+"]["balance_rate"] for k in THRESHOLDS},
        }
    return series


def run_pandas(path: Path) -> Series:
    import pandas as pd

    df = pd.read_parquet(path, columns=["as_of", "dpd", "balance", "state"])
    df["balance"] = df["balance"].astype("float64")
    active = df[df["state"].isna() | (df["state"] == "open")]
    grouped = active.groupby("as_of")
    totals = grouped.agg(accounts=("dpd", "size"), balance=("balance", "sum"))
    series: Series = {}
    columns = {}
    for k in THRESHOLDS:
        late = active[active["dpd"] >= k].groupby("as_of")
        columns[f"count{k}"] = late["dpd"].size() / totals["accounts"] * 100
        columns[f"balance{k}"] = late["balance"].sum() / totals["balance"] * 100
    result = pd.DataFrame(columns).fillna(0.0)
    for as_of, row in result.iterrows():
        series[pd.Timestamp(as_of).strftime("%Y-%m")] = {
            name: float(value) for name, value in row.items()
        }
    return series


def run_floor(path: Path) -> Series:
    import duckdb

    parts = []
    for k in THRESHOLDS:
        parts.append(f"100.0 * count(*) FILTER (WHERE dpd >= {k}) / count(*)")
        parts.append(f"100.0 * sum(balance) FILTER (WHERE dpd >= {k}) / sum(balance)")
    query = f"""
        SELECT strftime(as_of, '%Y-%m'), {", ".join(parts)}
        FROM read_parquet('{path}')
        WHERE state IS NULL OR state = 'open'
        GROUP BY as_of ORDER BY as_of
    """
    names = [f"{kind}{k}" for k in THRESHOLDS for kind in ("count", "balance")]
    series: Series = {}
    for label, *values in duckdb.connect().execute(query).fetchall():
        series[label] = {n: float(v or 0) for n, v in zip(names, values, strict=True)}
    return series


WORKERS = {"engine": run_engine, "pandas": run_pandas, "floor": run_floor}


IMPORTS = {
    "engine": ["ibis", "creditokr.creditdata.engine.sandbox"],
    "pandas": ["pandas"],
    "floor": ["duckdb"],
}


def worker(name: str, path: Path, warm_up: Path) -> None:
    # A running server has its libraries loaded and warmed up, so imports
    # and a first run over a tiny file are not timed; the process time
    # printed beside the figures includes them.
    for module in IMPORTS[name]:
        __import__(module)
    WORKERS[name](warm_up)
    started = time.perf_counter()
    series = WORKERS[name](path)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    json.dump({"seconds": seconds, "peak_kib": peak_kib, "series": series}, sys.stdout)


def measure(name: str, path: Path, warm_up: Path) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            name,
            "--path",
            str(path),
            "--warm-up",
            str(warm_up),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    result["process_seconds"] = time.perf_counter() - started
    return result


def agree(a: Series, b: Series) -> bool:
    return a.keys() == b.keys() and all(
        math.isclose(a[m][n], b[m][n], rel_tol=1e-9, abs_tol=1e-9)
        for m in a
        for n in a[m]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--path", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", choices=sorted(WORKERS))
    parser.add_argument("--warm-up", type=Path, default=None)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.path, args.warm_up)
        return

    path = args.path or Path(f"/tmp/creditokr-bench-{args.rows}.parquet")
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path} in {time.perf_counter() - started:.1f} s")
    warm_up = path.with_suffix(".warm-up.parquet")
    if not warm_up.exists():
        generate(warm_up, MONTHS * 10)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in WORKERS}
    for _ in range(args.repeat):
        for name in WORKERS:
            results[name].append(measure(name, path, warm_up))
    best = {
        name: min(runs, key=lambda r: r["seconds"]) for name, runs in results.items()
    }
    peak = {name: max(r["peak_kib"] for r in runs) for name, runs in results.items()}

    same = agree(best["engine"]["series"], best["floor"]["series"]) and agree(
        best["pandas"]["series"], best["floor"]["series"]
    )
    print(f"rows: {args.rows:,}; best of {args.repeat}; results agree: {same}")
    print(
        "| run | time (s) | x floor | pandas / run | peak RSS (MiB) | x floor "
        "| process incl. start-up (s) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in WORKERS:
        seconds = best[name]["seconds"]
        print(
            f"| {name} | {seconds:.2f} | {seconds / best['floor']['seconds']:.2f} | "
            f"{best['pandas']['seconds'] / seconds:.1f} | {peak[name] / 1024:.0f} | "
            f"{peak[name] / peak['floor']:.2f} | "
            f"{best[name]['process_seconds']:.2f} |"
        )
    if not same:
        sys.exit("the three implementations disagree")


if __name__ == "__main__":
    main()
