"""A real calendar program reads our feed and our invitations: calcurse.

calcurse imports an .ics file into its own store, turning each timed event
into wall-clock time of the zone it runs in (TZ), using our TZID and the
system's zone rules, and lists appointments and all-day events for a range
of days. scripts/test-tools installs it on Debian; the tests skip without
it only outside CI.

Times expected below, worked out by hand: planning Thu 1 Oct 2026 10:00
BST is 09:00 UTC; the review moved to Mon 26 Oct 10:00 GMT (the clocks
went back the day before) is 10:00 UTC. New York keeps EDT (UTC-4) until
1 November, so they show there as 05:00 and 06:00.
"""

import os
import shutil
import subprocess
from datetime import date, time
from pathlib import Path

import pytest

from creditokr.calendars.invitations import invitation
from creditokr.cycles import services
from creditokr.cycles.models import CadenceKind
from tests.calendars.conftest import make_feed, read_feed

CALCURSE = shutil.which("calcurse")
APPOINTMENT = "APT %(start:%Y-%m-%d %H:%M) %(end:%H:%M) %m\\n"
ALL_DAY = "DAY %m\\n"

pytestmark = pytest.mark.skipif(
    CALCURSE is None and not os.environ.get("CI"),
    reason="calcurse is not installed (scripts/test-tools installs it)",
)


def calcurse(folder: Path, zone: str, *arguments: str) -> str:
    if CALCURSE is None:
        pytest.fail("calcurse is missing on CI: run scripts/test-tools as root")
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": str(folder), "TZ": zone}
    # Our own test data, handed to a program found on PATH.
    finished = subprocess.run(  # noqa: S603
        [CALCURSE, "-D", str(folder), *arguments],
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return finished.stdout


def import_and_list(tmp_path: Path, data: bytes, zone: str) -> list[str]:
    """What calcurse shows for Oct - Dec 2026 after importing `data`."""
    folder = tmp_path / zone.replace("/", "-")
    folder.mkdir()
    ics = folder / "import.ics"
    ics.write_bytes(data)
    report = calcurse(folder, zone, "-i", str(ics))
    assert "0 skipped" in report, report
    listing = calcurse(
        folder,
        zone,
        "-Q",
        "--input-datefmt",
        "4",
        "--from",
        "2026-10-01",
        "--days",
        "92",
        "--format-apt",
        APPOINTMENT,
        "--format-event",
        ALL_DAY,
    )
    return [line for line in listing.splitlines() if line.startswith(("APT", "DAY"))]


@pytest.fixture
def feed_data(client, people, organisation, quarter, public_key_result):
    review = quarter.cadence_events.get(kind=CadenceKind.MID_REVIEW)
    services.update_cadence_event(
        review, organisation, day=date(2026, 10, 26), at=time(10, 0)
    )
    public_key_result.due_date = date(2026, 12, 15)
    public_key_result.save()
    return read_feed(client, make_feed(people["member"]))


def test_calcurse_shows_the_feed_at_london_times(tmp_path, feed_data):
    shown = import_and_list(tmp_path, feed_data, "Europe/London")

    assert shown == [
        "APT 2026-10-01 10:00 12:00 FY2027 Q3 planning session",
        "APT 2026-10-26 10:00 11:00 FY2027 Q3 mid-quarter review",
        "DAY Due: 30+ delinquency rate",
        "APT 2026-12-31 14:00 16:00 FY2027 Q3 end-of-quarter evaluation",
    ]


def test_calcurse_in_new_york_sees_the_london_clock_change(tmp_path, feed_data):
    shown = import_and_list(tmp_path, feed_data, "America/New_York")

    assert "APT 2026-10-01 05:00 07:00 FY2027 Q3 planning session" in shown
    assert "APT 2026-10-26 06:00 07:00 FY2027 Q3 mid-quarter review" in shown


def test_calcurse_takes_an_invitation(tmp_path, people, quarter, teams):
    review = quarter.cadence_events.get(kind=CadenceKind.MID_REVIEW)
    review.attendees = teams["credit_risk"]
    review.save()
    _subject, _text, data = invitation(review, people["member"])

    shown = import_and_list(tmp_path, data, "Europe/London")

    assert shown == ["APT 2026-11-16 10:00 11:00 FY2027 Q3 mid-quarter review"]
