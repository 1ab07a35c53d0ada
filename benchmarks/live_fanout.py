"""Benchmark: from a check-in to its live update on 200 open pages.

Starts the real app under uvicorn on 127.0.0.1 (as `make run` does) with a
fresh SQLite database holding one team of 200 people and an objective
shared with the whole organisation. 200 WebSocket clients (the `websockets`
library, each with its own signed-in session, as a browser tab would be)
connect to /live/ and catch up. Then one person records check-ins through
the check-in form (an HTTP POST, the way a browser sends it), one every
half second, and every client notes when the change reaches it.

A latency is the time from just before the POST is sent to the moment a
client has read the change from its socket; clients and servers share the
machine (and its two cores), so the figures include the clients' own work.
Three set-ups are measured:

- memory, 1 process: the default in-process channel layer;
- redis, 2 processes: REDIS_URL set, clients split evenly between two app
  processes, the check-ins sent to the first;
- and, as the floor, one client on the in-process layer.

Usage:
  .venv/bin/python benchmarks/live_fanout.py                  # 200 clients
  .venv/bin/python benchmarks/live_fanout.py --clients 50 --rounds 10

Redis must answer on 127.0.0.1:6379 for the second set-up (database 12 is
used); it is skipped otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from decimal import Decimal
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/12"
REQUIREMENT_MS = 1000


def setup(people: int) -> None:
    """Run in a child: migrate, fill, and print the sessions as JSON."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.utils.module_loading import import_string

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from creditokr.accounts.models import Membership, Organisation, Role, Team, User
    from creditokr.cycles.fiscal import local_today
    from creditokr.cycles.services import ensure_cycle
    from creditokr.okrs.models import KeyResult, Objective

    organisation = Organisation.get()
    today = local_today(organisation.zone)
    quarter = ensure_cycle(organisation, organisation.calendar.quarter_of(today), today)
    team = Team.objects.create(name="Collections", slug="collections")
    users = User.objects.bulk_create(
        User(username=f"person{n}", first_name="Person", last_name=str(n))
        for n in range(people)
    )
    Membership.objects.bulk_create(
        Membership(user=user, team=team, role=Role.MEMBER) for user in users
    )
    objective = Objective.objects.create(
        cycle=quarter, team=team, owner=users[0], title="Collect faster"
    )
    key_result = KeyResult.objects.create(
        objective=objective,
        owner=users[0],
        title="DSO",
        kind="decrease",
        unit="days",
        start_value=Decimal(52),
        target_value=Decimal(45),
    )
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    sessions = []
    for user in users:
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        sessions.append(session.session_key)
    print(json.dumps({"key_result": key_result.pk, "sessions": sessions}))


def environment(var_dir: Path, redis_url: str = "") -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "creditokr.settings",
        "CREDITOKR_VAR_DIR": str(var_dir),
        "DATABASE_URL": f"sqlite:///{var_dir / 'okr.db'}",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def prepare(var_dir: Path, people: int) -> dict[str, Any]:
    code = f"from benchmarks.live_fanout import setup; setup({people})"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=environment(var_dir),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    made: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return made


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
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
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _, _ = request(port, "GET", "/login/", "")
            if status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"uvicorn on port {port} did not start")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def request(
    port: int, method: str, path: str, cookie: str, body: str = ""
) -> tuple[int, str, list[tuple[str, str]]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body or None, headers=headers)
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    return response.status, text, response.getheaders()


def check_in(port: int, session: str, key_result: int, value: str) -> float:
    """Load the form, then POST it; the moment just before the POST is sent."""
    path = f"/key-results/{key_result}/check-in/"
    status, page, headers = request(port, "GET", path, f"sessionid={session}")
    assert status == 200, status
    csrf = next(
        v.split(";")[0].split("=", 1)[1]
        for k, v in headers
        if k.lower() == "set-cookie" and v.startswith("csrftoken=")
    )
    fields = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    )
    as_of = re.search(r'name="as_of" value="([^"]+)"', page)
    assert as_of is not None, "the form offers no as-of date"
    fields |= {"value": value, "as_of": as_of.group(1)}
    body = urllib.parse.urlencode(fields)
    cookie = f"sessionid={session}; csrftoken={csrf}"
    sent = time.perf_counter()
    status, _, _ = request(port, "POST", path, cookie, body)
    assert status == 302, f"check-in refused: {status}"
    return sent


class Client:
    """One open page: a socket and when each change reached it."""

    def __init__(self, port: int, session: str) -> None:
        self.port = port
        self.session = session
        self.arrivals: dict[int, float] = {}
        self.socket: ClientConnection | None = None

    async def open(self) -> None:
        self.socket = await connect(
            f"ws://127.0.0.1:{self.port}/live/",
            origin=f"http://127.0.0.1:{self.port}",  # type: ignore[arg-type]
            additional_headers={"Cookie": f"sessionid={self.session}"},
            open_timeout=30,
        )
        await self.socket.send(json.dumps({"since": 2**62}))
        reply = json.loads(await self.socket.recv())
        assert reply["type"] == "missed", reply

    async def listen(self) -> None:
        assert self.socket is not None
        async for raw in self.socket:
            now = time.perf_counter()
            message = json.loads(raw)
            if message["type"] == "change":
                self.arrivals[message["id"]] = now


async def run_rounds(
    ports: list[int], made: dict[str, Any], clients: int, rounds: int
) -> tuple[list[float], list[float]]:
    """Latencies (ms) of every client for every check-in, and of the POSTs."""
    sessions = made["sessions"]
    pages = [Client(ports[n % len(ports)], sessions[n]) for n in range(clients)]
    gate = asyncio.Semaphore(20)

    async def open_one(page: Client) -> None:
        async with gate:
            await page.open()

    await asyncio.gather(*(open_one(page) for page in pages))
    listeners = [asyncio.create_task(page.listen()) for page in pages]
    await asyncio.sleep(1)

    sent_at: list[float] = []
    posts: list[float] = []
    for n in range(rounds):
        before = len(pages[0].arrivals)
        sent = await asyncio.to_thread(
            check_in, ports[0], sessions[0], made["key_result"], f"{40 + n / 10:.1f}"
        )
        posts.append((time.perf_counter() - sent) * 1000)
        sent_at.append(sent)
        deadline = time.perf_counter() + 10
        while any(len(p.arrivals) <= before for p in pages):
            assert time.perf_counter() < deadline, "a change never arrived"
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.5)

    latencies = []
    for page in pages:
        ids = sorted(page.arrivals)
        assert len(ids) == rounds, f"{len(ids)} changes for {rounds} check-ins"
        latencies += [
            (page.arrivals[i] - sent) * 1000
            for i, sent in zip(ids, sent_at, strict=True)
        ]
    for task in listeners:
        task.cancel()
    for page in pages:
        assert page.socket is not None
        await page.socket.close()
    return latencies, posts


def measure(
    label: str, people: int, clients: int, rounds: int, processes: int, redis_url: str
) -> dict[str, Any]:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="creditokr-live-") as folder:
        var_dir = Path(folder)
        made = prepare(var_dir, people)
        env = environment(var_dir, redis_url)
        ports = [free_port() for _ in range(processes)]
        servers = [start_server(env, port) for port in ports]
        try:
            latencies, posts = asyncio.run(run_rounds(ports, made, clients, rounds))
        finally:
            for server in servers:
                stop_server(server)
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "set-up": label,
        "clients": clients,
        "check-ins": rounds,
        "p50": statistics.median(latencies),
        "p95": quantiles[94],
        "max": max(latencies),
        "post": statistics.median(posts),
        "load": load,
    }


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as probe:
            probe.sendall(b"PING\r\n")
            return probe.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()
    people, rounds = options.clients, options.rounds
    runs = [measure("memory, 1 process", people, options.clients, rounds, 1, "")]
    if redis_answers():
        runs.append(
            measure("redis, 2 processes", people, options.clients, rounds, 2, REDIS_URL)
        )
    else:
        print("Redis is not answering on 127.0.0.1:6379: its set-up is skipped.")
    runs.append(measure("floor: memory, 1 client", people, 1, rounds, 1, ""))

    print(
        "| set-up | clients | check-ins | p50 (ms) | p95 (ms) | max (ms) "
        "| POST, median (ms) | load before |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for run in runs:
        print(
            f"| {run['set-up']} | {run['clients']} | {run['check-ins']} "
            f"| {run['p50']:.1f} | {run['p95']:.1f} | {run['max']:.1f} "
            f"| {run['post']:.1f} | {run['load']:.1f} |"
        )
    slowest = max(run["max"] for run in runs)
    verdict = "within" if slowest < REQUIREMENT_MS else "OVER"
    print(f"Slowest arrival {slowest:.0f} ms: {verdict} the {REQUIREMENT_MS} ms aim.")


if __name__ == "__main__":
    main()
