"""The real app on 127.0.0.1 for the browser tests: uvicorn processes.

A test gets its own SQLite file, migrated and filled by `make_world` in a
child process; the var folder (secret key, collected static files) is
shared by the processes of one test run, so they accept each other's
sessions.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

PASSWORD = "live-test-password-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def environment(var_dir: Path, database: Path, redis_url: str = "") -> dict[str, str]:
    ours = {"DATABASE_URL", "REDIS_URL", "CREDITOKR_VAR_DIR", "DEBUG"}
    env = {k: v for k, v in os.environ.items() if k not in ours}
    env |= {
        "DJANGO_SETTINGS_MODULE": "creditokr.settings",
        "CREDITOKR_VAR_DIR": str(var_dir),
        "DATABASE_URL": f"sqlite:///{database}",
        "LOG_LEVEL": "WARNING",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def run_child(env: dict[str, str], code: str) -> str:
    finished = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"{code!r} failed:\n{finished.stderr[-3000:]}")
    return finished.stdout


def collect_static(env: dict[str, str]) -> None:
    run_child(
        env,
        "import django; django.setup();"
        "from django.core.management import call_command;"
        "call_command('collectstatic', interactive=False, verbosity=0)",
    )


def prepare_world(env: dict[str, str]) -> dict[str, Any]:
    """Migrate the database in `env` and fill it; the ids of what was made."""
    output = run_child(env, "from tests.live.servers import make_world; make_world()")
    world: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return world


def make_world() -> None:
    """Run in a child process: Credit Risk with Ana and Ben, Sales with Cleo,
    and one team-only objective of Credit Risk with Ana's key result "DSO"
    in the quarter running today."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from creditokr.accounts.models import Membership, Organisation, Role, Team, User
    from creditokr.cycles.fiscal import local_today
    from creditokr.cycles.services import ensure_cycle
    from creditokr.okrs.models import KeyResult, Objective, Visibility

    organisation = Organisation.get()
    organisation.name = "Acme Credit"
    organisation.save()
    today = local_today(organisation.zone)
    quarter = ensure_cycle(organisation, organisation.calendar.quarter_of(today), today)
    credit, sales = (
        Team.objects.create(name="Credit Risk", slug="credit-risk"),
        Team.objects.create(name="Sales", slug="sales"),
    )
    people = {}
    for username, first, last, team in [
        ("ana", "Ana", "Silva", credit),
        ("ben", "Ben", "Okafor", credit),
        ("cleo", "Cleo", "Park", sales),
    ]:
        person = User.objects.create_user(
            username=username, password=PASSWORD, first_name=first, last_name=last
        )
        Membership.objects.create(user=person, team=team, role=Role.MEMBER)
        people[username] = person
    objective = Objective.objects.create(
        cycle=quarter,
        team=credit,
        owner=people["ana"],
        title="Collect faster",
        visibility=Visibility.TEAM,
    )
    key_result = KeyResult.objects.create(
        objective=objective,
        owner=people["ana"],
        title="DSO",
        kind="decrease",
        unit="days",
        start_value=Decimal("52"),
        target_value=Decimal("45"),
    )
    print(json.dumps({"objective": objective.pk, "key_result": key_result.pk}))  # noqa: T201


@contextmanager
def app_server(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """uvicorn serving creditokr.asgi on 127.0.0.1:`port`, like `make run`."""
    server = start_server(env, port)
    try:
        yield server
    finally:
        stop_server(server)


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and app
        [
            sys.executable,
            "-m",
            "uvicorn",
            "creditokr.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"uvicorn on port {port} exited with {server.poll()}")
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/login/", timeout=2
            ) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"uvicorn on port {port} did not answer within 60 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)
