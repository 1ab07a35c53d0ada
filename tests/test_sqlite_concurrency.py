"""The embedded SQLite set-up never says "database is locked".

Eight separate `creditokr` processes record 25 check-ins each on one key
result in a real SQLite file, all starting at the same moment, each check-in
inside a transaction that reads before it writes (the pattern that fails
under SQLite's default deferred transactions). Every row must arrive.
"""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

WRITERS = 8
CHECK_INS_EACH = 25

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="checks the embedded SQLite set-up; runs in the suite's SQLite pass",
)

SEED = """
from datetime import date
from decimal import Decimal
from django.core.management import call_command
from creditokr.accounts.models import Organisation, Team, User
from creditokr.cycles.services import ensure_cycle
from creditokr.okrs.models import KeyResult, Objective

call_command("migrate", verbosity=0)
organisation = Organisation.get()
organisation.fiscal_year_start_month = 4
organisation.save()
quarter = organisation.calendar.quarter_period(2027, 3)
cycle = ensure_cycle(organisation, quarter, date(2026, 11, 15))
owner = User.objects.create_user("collector")
team = Team.objects.create(name="Collections", slug="collections")
objective = Objective.objects.create(
    cycle=cycle, team=team, owner=owner, title="Work the 30+ bucket"
)
key_result = KeyResult.objects.create(
    objective=objective, owner=owner, title="Accounts contacted",
    kind="increase", unit="count", start_value=Decimal(0),
    target_value=Decimal(10000),
)
print("RESULT", key_result.pk)
"""

WRITER = """
import json, os, time
from datetime import date
from decimal import Decimal
from django.db import connection, transaction
from creditokr.okrs.models import KeyResult
from creditokr.okrs.services import record_check_in

number = int(os.environ["WRITER"])
key_result = KeyResult.objects.select_related("objective__cycle", "owner").get(
    pk=int(os.environ["KEY_RESULT"])
)
folder = os.environ["SIGNALS"]
open(os.path.join(folder, f"ready-{number}"), "w").close()
deadline = time.monotonic() + 30
while not os.path.exists(os.path.join(folder, "go")):
    if time.monotonic() > deadline:
        raise SystemExit("never told to go")
    time.sleep(0.005)

for i in range(int(os.environ["EACH"])):
    with transaction.atomic():
        record_check_in(
            key_result.owner,
            key_result,
            as_of=date(2026, 11, 1),
            value=Decimal(number * 1000 + i),
            today=date(2026, 11, 15),
        )

with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    journal_mode = cursor.fetchone()[0]
print("RESULT", json.dumps([journal_mode, connection.transaction_mode]))
"""


def creditokr_shell(code: str, environment: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-m", "creditokr", "shell", "--no-imports", "-c", code],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def result_of(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, stdout
    return lines[0].removeprefix("RESULT ")


def wait_for_ready(signals: Path, writers: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 30
    while len(list(signals.glob("ready-*"))) < len(writers):
        assert all(w.poll() is None for w in writers), "a writer died while starting"
        assert time.monotonic() < deadline, "writers never got ready"
        time.sleep(0.01)


@pytest.fixture
def environment(tmp_path) -> dict[str, str]:
    ours = {"SECRET_KEY", "DEBUG", "TIME_ZONE", "DATABASE_URL", "ALLOWED_HOSTS"}
    inherited = {k: v for k, v in os.environ.items() if k not in ours}
    return inherited | {
        "DJANGO_SETTINGS_MODULE": "creditokr.settings",
        "CREDITOKR_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'okr.db'}",
        "LOG_LEVEL": "WARNING",
    }


def test_concurrent_check_ins_all_arrive_without_locking_errors(tmp_path, environment):
    seed = creditokr_shell(SEED, environment)
    seed_out, seed_err = seed.communicate(timeout=60)
    assert seed.returncode == 0, seed_err
    key_result = result_of(seed_out)
    signals = tmp_path / "signals"
    signals.mkdir()

    writers = [
        creditokr_shell(
            WRITER,
            environment
            | {
                "WRITER": str(n),
                "KEY_RESULT": key_result,
                "SIGNALS": str(signals),
                "EACH": str(CHECK_INS_EACH),
            },
        )
        for n in range(WRITERS)
    ]
    wait_for_ready(signals, writers)
    (signals / "go").touch()
    outcomes = [writer.communicate(timeout=60) for writer in writers]

    for writer, (_, stderr) in zip(writers, outcomes, strict=True):
        assert "database is locked" not in stderr
        assert writer.returncode == 0, stderr
    assert {result_of(stdout) for stdout, _ in outcomes} == {'["wal", "IMMEDIATE"]'}
    with sqlite3.connect(tmp_path / "okr.db") as database:
        (journal_mode,) = database.execute("PRAGMA journal_mode").fetchone()
        values = database.execute(
            "SELECT CAST(value AS INTEGER) FROM okrs_checkin WHERE key_result_id = ?",
            (int(key_result),),
        ).fetchall()
    database.close()
    assert journal_mode == "wal"
    assert sorted(v for (v,) in values) == [
        n * 1000 + i for n in range(WRITERS) for i in range(CHECK_INS_EACH)
    ]
