"""Two real workers, a real SMTP server and PostgreSQL's row locks.

These run `creditokr worker` as separate processes against a PostgreSQL
database made for the test (and dropped after), because SQLite has no row
locks to test. They are skipped only when nothing answers on
127.0.0.1:5432.
"""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.reminders.servers import Inbox, smtp_server

SERVER = "postgresql://postgres@127.0.0.1:5432"
MESSAGES = 200
SETUP = f"""
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from creditokr.accounts.models import User
from creditokr.reminders.delivery import enqueue
for n in range({MESSAGES}):
    person = User.objects.create(username=f"p{{n}}", email=f"p{{n}}@example.test")
    enqueue(person, "overdue", "overdue:test", subject=f"Message {{n}}", text="t")
"""


@pytest.fixture
def database() -> Iterator[str]:
    try:
        admin = psycopg.connect(
            f"{SERVER}/postgres", autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    name = f"creditokr_reminders_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def environment(database: str, port: int, tmp_path: Path) -> dict[str, str]:
    ours = {"DATABASE_URL", "EMAIL_BACKEND", "CHAT_URLS", "CREDITOKR_WORKER_NAME"}
    env = {k: v for k, v in os.environ.items() if k not in ours}
    return env | {
        "DJANGO_SETTINGS_MODULE": "creditokr.settings",
        "DATABASE_URL": database,
        "CREDITOKR_VAR_DIR": str(tmp_path / "var"),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "SITE_URL": "http://okr.example.test",
        "REMINDER_LEASE_SECONDS": "5",
        "LOG_LEVEL": "WARNING",
    }


def prepare(env: dict[str, str]) -> None:
    subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SETUP], env=env, check=True, timeout=180
    )


def start_worker(env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and command
        [
            sys.executable,
            "-m",
            "creditokr",
            "worker",
            "--only",
            "reminders-send",
            "--tick",
            "0.2",
            "--worker-name",
            name,
        ],
        env=env,
    )


def rows(database: str) -> list[tuple[int, str, str, int]]:
    with psycopg.connect(database) as connection:
        return connection.execute(
            "SELECT id, status, claimed_by, attempts FROM reminders_delivery"
        ).fetchall()


def wait_until(done: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(done) and done():
            return
        time.sleep(0.2)


def expected_ids(database: str) -> set[str]:
    return {f"<delivery-{pk}.overdue@okr.example.test>" for pk, *_ in rows(database)}


def received_ids(inbox: Inbox) -> list[str]:
    with inbox.lock:
        # This installation's part of each id is left out: the ids are
        # compared with what the database says was queued.
        return [
            re.sub(r"\.[0-9a-f]{12}@", "@", str(message["Message-ID"]))
            for message in inbox.messages
        ]


def stop(*workers: subprocess.Popen[bytes]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=30)


def test_two_workers_send_each_message_exactly_once(database, tmp_path):
    with smtp_server(delay=0.05) as (inbox, port):
        env = environment(database, port, tmp_path)
        prepare(env)
        first, second = start_worker(env, "A"), start_worker(env, "B")
        try:
            wait_until(lambda: len(inbox.messages) >= MESSAGES, 90)
            time.sleep(1)  # room for any message sent twice to arrive
        finally:
            stop(first, second)

    received = received_ids(inbox)
    assert len(received) == MESSAGES
    assert set(received) == expected_ids(database)
    final = rows(database)
    assert {status for _, status, _, _ in final} == {"sent"}
    # Both workers took part, so the locks really were contended.
    assert {claimed_by for _, _, claimed_by, _ in final} == {"A", "B"}


def test_a_killed_worker_loses_nothing_and_duplicates_nothing(database, tmp_path):
    """What is asserted: every message arrives; at most one arrives twice
    (the one in flight when the kill landed between sending and recording),
    and a second copy carries the same Message-ID as the first."""
    with smtp_server(delay=0.05) as (inbox, port):
        env = environment(database, port, tmp_path)
        prepare(env)
        victim = start_worker(env, "A")
        wait_until(lambda: len(inbox.messages) >= 50, 60)  # mid-batch
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        assert len(inbox.messages) < MESSAGES  # the kill landed mid-run
        stuck = [row for row in rows(database) if row[1] == "sending"]

        successor = start_worker(env, "B")
        try:
            wait_until(
                lambda: all(status == "sent" for _, status, _, _ in rows(database)),
                90,
            )
            time.sleep(1)
        finally:
            stop(successor)

    received = received_ids(inbox)
    counts = Counter(received)
    assert set(received) == expected_ids(database)
    assert len(received) - MESSAGES <= 1
    assert all(count <= 2 for count in counts.values())
    assert stuck, "the killed worker held claimed rows"
    taken_over = {pk for pk, *_ in stuck}
    final = {pk: (status, by, attempts) for pk, status, by, attempts in rows(database)}
    assert all(final[pk] == ("sent", "B", 2) for pk in taken_over)
