"""Background jobs, run by `creditokr worker`.

Apps register their periodic jobs when Django starts (in AppConfig.ready);
the worker runs each one when its interval has passed. A job must be safe
to run in two workers at once: it claims its work in the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], object]
    every_seconds: float


JOBS: dict[str, Job] = {}


def register(name: str, run: Callable[[], object], every_seconds: float) -> None:
    """Add a periodic job; registering the same name again replaces it."""
    JOBS[name] = Job(name, run, every_seconds)
