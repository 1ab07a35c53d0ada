"""`creditokr worker`: the background jobs that keep key results current.

`make run` starts one next to the web server. In production run it as its
own process (one is enough; it only reads SQL sources whose look-again time
has come, so a second one would find little to do).
"""

from __future__ import annotations

import logging
import signal
import threading
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from creditokr.creditdata import services

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run background jobs: look for new data in SQL sources and refresh."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--every",
            type=float,
            default=60.0,
            help="Seconds between passes (default 60).",
        )
        parser.add_argument(
            "--once", action="store_true", help="Run one pass, then stop."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        logger.info("worker started")
        while not stop.is_set():
            close_old_connections()
            try:
                outcomes = services.refresh_due()
            except Exception:
                logger.exception("a worker pass failed; trying again next pass")
            else:
                for outcome in outcomes:
                    logger.info(
                        "feed %s: %s new, %s unchanged%s",
                        outcome.feed.pk,
                        outcome.written,
                        outcome.unchanged,
                        f", error: {outcome.error}" if outcome.error else "",
                    )
            if options["once"]:
                break
            stop.wait(options["every"])
        logger.info("worker stopped")
