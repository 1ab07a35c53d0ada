"""Benchmark: one reminder scheduling pass for 20,000 people.

Builds a seeded organisation (20,000 people, 5 key results each, a realistic
mix of time zones, due dates and recent check-ins) in a fresh database, then
runs one scheduling pass at Monday 09:00 London, when the weekly check-in
reminders of most people fall due, in a separate process, and reports wall
time, the number of queries and peak memory.

Usage:
  .venv/bin/python benchmarks/reminders/run.py            # SQLite, and
                                                          # PostgreSQL if up
  .venv/bin/python benchmarks/reminders/run.py --people 2000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

SEED = 20261116
MOMENT = datetime(2026, 11, 16, 9, 0, 30, tzinfo=UTC)
ZONES = [("Europe/London", 0.8), ("America/New_York", 0.1), ("Asia/Singapore", 0.1)]
POSTGRES = "postgresql://postgres@127.0.0.1:5432"


def setup(people: int) -> None:
    """Fill the database named by DATABASE_URL (already migrated)."""
    import django

    django.setup()
    from creditokr.accounts.models import Membership, Organisation, Role, Team, User
    from creditokr.cycles.fiscal import FiscalCalendar
    from creditokr.cycles.services import ensure_cycle
    from creditokr.okrs.models import CheckIn, KeyResult, Objective

    rng = random.Random(SEED)
    organisation = Organisation.get()
    organisation.fiscal_year_start_month = 4
    organisation.time_zone = "Europe/London"
    organisation.save()
    quarter = ensure_cycle(
        organisation, FiscalCalendar(4).quarter_period(2027, 3), date(2026, 11, 15)
    )
    teams = Team.objects.bulk_create(
        Team(name=f"Team {n}", slug=f"team-{n}") for n in range(20)
    )
    zones = [name for name, _ in ZONES]
    weights = [weight for _, weight in ZONES]
    users = User.objects.bulk_create(
        (
            User(
                username=f"person{n}",
                first_name=f"Person {n}",
                email=f"person{n}@example.test",
                time_zone=rng.choices(zones, weights)[0],
            )
            for n in range(people)
        ),
        batch_size=2000,
    )
    Membership.objects.bulk_create(
        (
            Membership(user=u, team=teams[n % len(teams)], role=Role.MEMBER)
            for n, u in enumerate(users)
        ),
        batch_size=2000,
    )
    objectives = Objective.objects.bulk_create(
        (
            Objective(
                cycle=quarter,
                team=teams[n % len(teams)],
                owner=u,
                title=f"Objective of person {n}",
                visibility="team" if n % 10 == 0 else "org",
            )
            for n, u in enumerate(users)
        ),
        batch_size=2000,
    )
    key_results = KeyResult.objects.bulk_create(
        (
            KeyResult(
                objective=objective,
                owner_id=objective.owner_id,
                title=f"Key result {k} of person {n}",
                kind="decrease",
                unit="percent",
                start_value=Decimal(8),
                target_value=Decimal("6.8"),
                due_date=_due(rng),
            )
            for n, objective in enumerate(objectives)
            for k in range(5)
        ),
        batch_size=2000,
    )
    check_ins = []
    for key_result in key_results:
        roll = rng.random()
        if roll < 0.7:  # 70% have readings; 40% of all within 3 days
            days_ago = rng.randint(0, 2) if roll < 0.4 else rng.randint(4, 30)
            created = MOMENT - timedelta(days=days_ago, hours=rng.randint(1, 20))
            check_ins.append(
                CheckIn(
                    key_result=key_result,
                    author_id=key_result.owner_id,
                    as_of=created.date(),
                    value=Decimal(rng.randint(68, 82)) / 10,
                    created_at=created,
                )
            )
    CheckIn.objects.bulk_create(check_ins, batch_size=2000)
    # created_at is auto_now_add: set it afterwards, in one statement.
    _backdate_check_ins()


def _backdate_check_ins() -> None:
    from django.db.models import F

    from creditokr.okrs.models import CheckIn

    CheckIn.objects.update(created_at=F("as_of"))


def _due(rng: random.Random) -> date | None:
    roll = rng.random()
    if roll < 0.6:
        return None  # the end of the quarter
    if roll < 0.65:
        return date(2026, 11, 19)  # in three days: a deadline reminder
    if roll < 0.7:
        return date(2026, 11, 15)  # yesterday: an overdue notice
    return date(2026, 10, 1) + timedelta(days=rng.randint(0, 91))


def one_pass() -> dict[str, float]:
    """Run one scheduling pass and report on it (in its own process)."""
    import django

    django.setup()
    import time_machine
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from creditokr.reminders.models import Delivery
    from creditokr.reminders.planning import plan

    before_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with (
        time_machine.travel(MOMENT, tick=True),
        CaptureQueriesContext(connection) as queries,
    ):
        started = time.perf_counter()
        created = plan()
        elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "queries": len(queries),
        "created": created,
        "deliveries": Delivery.objects.count(),
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mib": before_rss / 1024,
    }


def run_child(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, __file__, *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def measure(database_url: str, people: int, var_dir: Path) -> dict[str, float]:
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "creditokr.settings",
        "DATABASE_URL": database_url,
        "CREDITOKR_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "-m", "creditokr", "migrate", "--verbosity", "0"],
        env=env,
        check=True,
    )
    started = time.perf_counter()
    run_child(env, "--child-setup", str(people))
    print(f"  data made in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    first = json.loads(run_child(env, "--child-pass").strip().splitlines()[-1])
    again = json.loads(run_child(env, "--child-pass").strip().splitlines()[-1])
    first["again_seconds"] = again["seconds"]
    first["again_created"] = again["created"]
    return first


def postgres_database() -> str | None:
    try:
        import psycopg

        admin = psycopg.connect(
            f"{POSTGRES}/postgres", autocommit=True, connect_timeout=3
        )
    except Exception:
        return None
    name = f"creditokr_bench_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return name


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--child-setup", type=int)
    parser.add_argument("--child-pass", action="store_true")
    options = parser.parse_args()
    if options.child_setup:
        setup(options.child_setup)
        return
    if options.child_pass:
        print(json.dumps(one_pass()))
        return

    results = {}
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        print("SQLite...", file=sys.stderr)
        results["SQLite"] = measure(f"sqlite:///{db}", options.people, Path(folder))
        name = postgres_database()
        if name is not None:
            print("PostgreSQL...", file=sys.stderr)
            try:
                results["PostgreSQL"] = measure(
                    f"{POSTGRES}/{name}", options.people, Path(folder)
                )
            finally:
                drop_postgres(name)

    print(f"\n{options.people:,} people, {options.people * 5:,} key results\n")
    print(
        "| database | pass (s) | queries | deliveries stored | peak RSS (MiB) "
        "| RSS before pass (MiB) | pass again (s) | stored again |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        print(
            f"| {name} | {r['seconds']:.1f} | {r['queries']} | {r['created']:,} "
            f"| {r['rss_mib']:.0f} | {r['rss_before_mib']:.0f} "
            f"| {r['again_seconds']:.1f} | {r['again_created']} |"
        )


if __name__ == "__main__":
    main()
