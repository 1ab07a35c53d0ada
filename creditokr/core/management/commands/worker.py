"""`creditokr worker`: the background jobs that keep CreditOKR current.

`make run` starts one next to the web server. In production run it as its
own process (`creditokr worker`); two or more are safe, each job claims its
work in the database.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from creditokr.core.jobs import JOBS

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run background jobs: data refreshes, reminders and deliveries."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--tick",
            type=float,
            default=5.0,
            help="Seconds between looks at the job list (default 5).",
        )
        parser.add_argument(
            "--once", action="store_true", help="Run every job once, then stop."
        )
        parser.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="JOB",
            help="Run only this job (may be given more than once).",
        )
        parser.add_argument(
            "--worker-name",
            default="",
            help="The name this worker claims work under, shown in the admin "
            "(default: host name and process id).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        unknown = set(options["only"]) - set(JOBS)
        if unknown:
            known = ", ".join(sorted(JOBS))
            raise CommandError(f"Unknown job {sorted(unknown)}; known jobs: {known}")
        jobs = [
            job
            for name, job in JOBS.items()
            if not options["only"] or name in options["only"]
        ]
        if options["worker_name"]:
            # Jobs read it from the environment, as they run in this process.
            os.environ["CREDITOKR_WORKER_NAME"] = options["worker_name"]
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        last_run: dict[str, float] = {}
        logger.info("worker started with jobs: %s", ", ".join(j.name for j in jobs))
        while not stop.is_set():
            for job in jobs:
                now = time.monotonic()
                if now - last_run.get(job.name, -job.every_seconds) < job.every_seconds:
                    continue
                last_run[job.name] = now
                close_old_connections()
                try:
                    job.run()
                except Exception:
                    logger.exception("job %s failed; it runs again next time", job.name)
                if stop.is_set():
                    break
            if options["once"]:
                break
            stop.wait(options["tick"])
        logger.info("worker stopped")
