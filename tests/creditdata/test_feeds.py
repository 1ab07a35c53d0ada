"""Key results fed by credit data: deliveries, refreshes and provenance.

The fixtures are tiny loan tapes whose delinquency rates are worked out by
hand in the comments; the fiscal year runs April to March (FY2027 starts on
1 April 2026) and today is 15 November 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError

from creditokr.creditdata import services
from creditokr.creditdata.ingest.mapping import FieldMapping, Mapping
from creditokr.creditdata.ingest.readers import sniff
from creditokr.creditdata.models import (
    DataImport,
    DataSource,
    FeedReading,
    KeyResultFeed,
    SourceKind,
)
from creditokr.okrs import services as okr_services
from creditokr.okrs.models import CheckIn
from tests.conftest import make_key_result, make_objective

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)

TAPE = Mapping(
    dataset="account_snapshots",
    fields={
        "account_id": FieldMapping(column="account"),
        "as_of": FieldMapping(column="month_end", date_format="%Y-%m-%d"),
        "dpd": FieldMapping(column="days_past_due"),
        "balance": FieldMapping(column="balance"),
    },
)

# 30+ days past due, count basis, open accounts:
#   March: A2 (35)         -> 1 of 4 = 25%   (before the cycle: the baseline)
#   April: A2 (65), A3 (31) -> 2 of 4 = 50%
#   May:   A4 (90)         -> 1 of 4 = 25%
FIRST_TAPE = """account,month_end,days_past_due,balance
A1,2026-03-31,0,1000
A2,2026-03-31,35,500
A3,2026-03-31,0,250
A4,2026-03-31,0,250
A1,2026-04-30,0,900
A2,2026-04-30,65,500
A3,2026-04-30,31,240
A4,2026-04-30,0,250
A1,2026-05-31,0,800
A2,2026-05-31,0,400
A3,2026-05-31,0,230
A4,2026-05-31,90,250
"""


@pytest.fixture(autouse=True)
def _data_folder(settings, tmp_path):
    settings.CREDIT_DATA_DIR = tmp_path / "credit-data"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def tape_source(teams, people) -> DataSource:
    return DataSource.objects.create(
        name="Loan tape",
        team=teams["credit_risk"],
        dataset="account_snapshots",
        kind=SourceKind.FILE,
        created_by=people["manager"],
    )


def deliver(source: DataSource, tmp_path: Path, text: str, user, name="tape.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    sniffed = sniff(path, name)
    return services.deliver_file(user, source, path, name, sniffed.format, TAPE)


@pytest.fixture
def fed_key_result(fiscal_year, teams, people, tape_source):
    objective = make_objective(fiscal_year, teams["credit_risk"], people["manager"])
    key_result = make_key_result(
        objective,
        people["member"],
        start_value=None,
        target_value=None,
        target_mode="relative_percent",
        target_change=Decimal("-20"),
    )
    KeyResultFeed.objects.create(
        key_result=key_result,
        source=tape_source,
        kpi="delinquency_rate",
        settings={"threshold": "30", "basis": "count"},
        created_by=people["manager"],
    )
    return key_result


def data_check_ins(key_result) -> list[tuple[date, Decimal | None]]:
    rows = CheckIn.objects.filter(key_result=key_result, source="data")
    return sorted((c.as_of, c.value) for c in rows)


def test_a_delivery_feeds_the_key_result_with_provenance(
    frozen, tmp_path, tape_source, fed_key_result, people
):
    outcome = deliver(tape_source, tmp_path, FIRST_TAPE, people["manager"])

    assert outcome.accepted
    assert outcome.data_import.rows == 12
    assert outcome.data_import.data_start == date(2026, 3, 31)
    assert outcome.data_import.data_end == date(2026, 5, 31)
    [refreshed] = outcome.refreshed
    assert (refreshed.written, refreshed.unchanged, refreshed.error) == (2, 0, "")
    assert data_check_ins(fed_key_result) == [
        (date(2026, 4, 30), Decimal("50.0000")),
        (date(2026, 5, 31), Decimal("25.0000")),
    ]
    # The baseline is March, the last month before the cycle starts; the
    # target is 20% below it.
    fed_key_result.refresh_from_db()
    assert fed_key_result.start_value == Decimal("25.0000")
    assert fed_key_result.target_value == Decimal("20.0000")

    reading = FeedReading.objects.get(check_in__as_of=date(2026, 4, 30))
    assert reading.source_name == "Loan tape"
    assert reading.kpi == "delinquency_rate"
    assert reading.settings["threshold"] == 30
    assert reading.settings["basis"] == "count"
    assert (reading.numerator, reading.denominator) == (2.0, 4.0)
    assert reading.rows_read == 4
    assert reading.data_import == outcome.data_import
    assert outcome.data_import.sha256[:12] in reading.data_version
    assert any("30" in line for line in reading.conventions)
    assert reading.computed_at == NOW
    baseline = FeedReading.objects.get(is_baseline=True)
    assert baseline.check_in is None
    assert baseline.period_end == date(2026, 3, 31)


def test_refreshing_the_same_data_writes_nothing(
    frozen, tmp_path, tape_source, fed_key_result, people
):
    deliver(tape_source, tmp_path, FIRST_TAPE, people["manager"])
    before = CheckIn.objects.count(), FeedReading.objects.count()

    again = services.refresh_feed(fed_key_result.feed)

    assert (again.written, again.unchanged, again.error) == (0, 2, "")
    assert (CheckIn.objects.count(), FeedReading.objects.count()) == before


def test_a_revised_delivery_adds_to_the_history(
    frozen, tmp_path, tape_source, fed_key_result, people
):
    deliver(tape_source, tmp_path, FIRST_TAPE, people["manager"])
    # May corrected (A4 was current after all: 0 of 4) and June added,
    # everyone current: 0%.
    revised = FIRST_TAPE.replace("A4,2026-05-31,90,250", "A4,2026-05-31,0,250")
    revised += "".join(f"A{n},2026-06-30,0,100\n" for n in range(1, 5))

    outcome = deliver(tape_source, tmp_path, revised, people["manager"], "v2.csv")

    [refreshed] = outcome.refreshed
    assert (refreshed.written, refreshed.unchanged) == (2, 1)
    assert data_check_ins(fed_key_result) == [
        (date(2026, 4, 30), Decimal("50.0000")),
        (date(2026, 5, 31), Decimal("0.0000")),
        (date(2026, 5, 31), Decimal("25.0000")),
        (date(2026, 6, 30), Decimal("0.0000")),
    ]
    revision = CheckIn.objects.filter(as_of=date(2026, 5, 31)).latest("pk")
    assert "revised" in revision.note
    assert DataImport.objects.filter(source=tape_source).count() == 2
    assert DataImport.objects.get(is_current=True).file_name == "v2.csv"


def test_a_refused_delivery_changes_nothing(
    frozen, tmp_path, tape_source, fed_key_result, people
):
    first = deliver(tape_source, tmp_path, FIRST_TAPE, people["manager"])
    files_before = sorted(p.name for p in first.data_import.path.parent.iterdir())
    check_ins_before = data_check_ins(fed_key_result)
    # A2 appears twice for April: the key (account, month end) repeats.
    broken = FIRST_TAPE + "A2,2026-04-30,0,10\nA9,2026-06-30,zero,10\n"

    outcome = deliver(tape_source, tmp_path, broken, people["manager"], "bad.csv")

    assert not outcome.accepted
    messages = [(e.line, e.column, e.message) for e in outcome.result.errors]
    assert any(line == 15 and column == "days_past_due" for line, column, _ in messages)
    assert any(line == 14 for line, _, _ in messages)  # the duplicate
    assert DataImport.objects.get(is_current=True) == first.data_import
    assert DataImport.objects.count() == 1
    assert sorted(p.name for p in first.data_import.path.parent.iterdir()) == (
        files_before
    )
    assert data_check_ins(fed_key_result) == check_ins_before


def test_a_data_fed_value_is_not_typed_over(
    frozen, tmp_path, tape_source, fed_key_result, people
):
    deliver(tape_source, tmp_path, FIRST_TAPE, people["manager"])
    fed_key_result.refresh_from_db()

    with pytest.raises(ValidationError, match="comes from data"):
        okr_services.record_check_in(
            people["member"],
            fed_key_result,
            as_of=date(2026, 11, 1),
            value=Decimal("1"),
        )
    # A note and a confidence on the latest value from data are welcome.
    check_in = okr_services.record_check_in(
        people["member"],
        fed_key_result,
        as_of=date(2026, 5, 31),
        value=Decimal("25.0000"),
        confidence="at_risk",
        note="A4 is in a payment plan.",
    )
    assert check_in.source == "manual"


def test_a_source_without_new_data_is_stale(
    tmp_path, tape_source, fed_key_result, people
):
    with time_machine.travel(datetime(2026, 6, 5, 9, tzinfo=UTC), tick=False):
        deliver(tape_source, tmp_path, FIRST_TAPE, people["manager"])
    tape_source.refresh_from_db()
    tape_source.expected_every_days = 31

    on_time = datetime(2026, 7, 5, 9, tzinfo=UTC)  # 30 days later
    late = datetime(2026, 7, 7, 9, tzinfo=UTC)  # 32 days later
    assert tape_source.stale_since(on_time) is None
    assert tape_source.stale_since(late) == datetime(2026, 7, 6, 9, tzinfo=UTC)


def test_a_feed_without_data_says_so(frozen, fed_key_result):
    outcome = services.refresh_feed(fed_key_result.feed)

    assert outcome.written == 0
    assert "has no data yet" in outcome.error
    fed_key_result.feed.refresh_from_db()
    assert "upload a file first" in fed_key_result.feed.last_error
    assert not CheckIn.objects.exists()


def test_the_scheduled_pass_refreshes_feeds_not_refreshed_for_a_day(
    tmp_path, tape_source, fed_key_result, people
):
    with time_machine.travel(NOW, tick=False):
        deliver(tape_source, tmp_path, FIRST_TAPE, people["manager"])
        assert services.refresh_due() == []  # refreshed on delivery

    with time_machine.travel(datetime(2026, 11, 16, 13, tzinfo=UTC), tick=False):
        [outcome] = services.refresh_due()

    assert outcome.feed == fed_key_result.feed
    assert (outcome.written, outcome.unchanged, outcome.error) == (0, 2, "")


def test_a_source_is_deleted_only_once_nothing_reads_it(
    frozen, tmp_path, tape_source, fed_key_result, people
):
    outcome = deliver(tape_source, tmp_path, FIRST_TAPE, people["manager"])
    folder = outcome.data_import.path.parent

    with pytest.raises(services.FeedError, match="stop those feeds first"):
        services.delete_source(people["manager"], tape_source)
    assert DataSource.objects.filter(pk=tape_source.pk).exists()

    fed_key_result.feed.delete()
    services.delete_source(people["manager"], tape_source)

    assert not DataSource.objects.exists()
    assert not folder.exists()
    # The history keeps its values and the source's name.
    readings = FeedReading.objects.filter(check_in__isnull=False)
    assert readings.count() == 2
    assert {r.source_name for r in readings} == {"Loan tape"}
    assert all(r.source is None for r in readings)


def test_an_archived_key_result_is_not_recomputed(
    frozen, tmp_path, tape_source, fed_key_result, people
):
    fed_key_result.archived = True
    fed_key_result.save()

    outcome = deliver(tape_source, tmp_path, FIRST_TAPE, people["manager"])

    [refreshed] = outcome.refreshed
    assert (refreshed.skipped, refreshed.error, refreshed.written) == (
        "archived",
        "",
        0,
    )
    assert not CheckIn.objects.exists()
