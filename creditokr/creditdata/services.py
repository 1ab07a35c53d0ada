"""Deliveries of credit data, and key results refreshed from them.

Every change to credit data goes through here: an accepted delivery
replaces the source's current data in one transaction, then the key results
it feeds are recomputed. Refreshing writes a check-in only for a value that
is new, so running it twice on the same data writes nothing.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from creditokr.accounts.models import Organisation, User
from creditokr.creditdata import credentials
from creditokr.creditdata.engine.contract import Filters, SeriesPoint
from creditokr.creditdata.engine.kpis import get_kpi
from creditokr.creditdata.engine.periods import periods_for
from creditokr.creditdata.engine.sandbox import open_files
from creditokr.creditdata.ingest import sql_source
from creditokr.creditdata.ingest.importer import ImportResult, file_sha256, import_file
from creditokr.creditdata.ingest.mapping import Mapping as ColumnMapping
from creditokr.creditdata.ingest.readers import FileFormat
from creditokr.creditdata.models import (
    DataImport,
    DataSource,
    FeedReading,
    KeyResultFeed,
    SourceKind,
)
from creditokr.cycles.fiscal import local_today
from creditokr.okrs import services as okr_services
from creditokr.okrs.models import CheckInSource, KeyResult
from creditokr.okrs.progress import Kind

logger = logging.getLogger(__name__)

# Values from data are kept to two decimal places (10.73%, 27.26 days), as
# credit reports show them; the exact numerator and denominator stay in
# the reading's provenance.
TWO_PLACES = Decimal("0.01")
# The dates that say how recent a delivery is, per canonical dataset.
AS_OF_FIELDS: dict[str, tuple[str, ...]] = {
    "receivables": ("invoice_date", "settled_date"),
    "payments": ("payment_date",),
    "account_snapshots": ("as_of",),
    "recoveries": ("event_date",),
    "application_events": ("occurred_at",),
    "policy_checks": ("decided_on",),
}


class FeedError(Exception):
    """A feed cannot be computed; the message says why, for its owner."""


# Deliveries


@dataclass
class DeliveryOutcome:
    result: ImportResult
    data_import: DataImport | None = None
    refreshed: list[RefreshOutcome] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.data_import is not None


def deliver_file(
    user: User,
    source: DataSource,
    path: Path,
    file_name: str,
    file_format: FileFormat,
    mapping: ColumnMapping,
) -> DeliveryOutcome:
    """Import a file into a file source: all of it, or nothing.

    The canonical Parquet is written under a new name, so the source's
    current data is untouched until the database row that points at the
    new file is committed; a refused file leaves no trace.
    """
    if source.kind != SourceKind.FILE:
        raise ValueError("Only file sources take file deliveries.")
    folder = source_folder(source)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
    stored = folder / f"import-{stamp}.parquet"

    result = import_file(path, file_format, mapping, stored)
    outcome = DeliveryOutcome(result=result)
    if not result.ok:
        return outcome

    try:
        start, end = _data_range(source.dataset, stored)
        with transaction.atomic():
            locked = DataSource.objects.select_for_update().get(pk=source.pk)
            locked.imports.filter(is_current=True).update(is_current=False)
            data_import = DataImport.objects.create(
                source=locked,
                file_name=file_name[:255],
                sha256=result.sha256 or file_sha256(path),
                rows=result.rows,
                data_start=start,
                data_end=end,
                stored_path=str(stored.relative_to(settings.CREDIT_DATA_DIR)),
                mapping=mapping.to_dict(),
                created_by=user,
            )
            locked.mapping = mapping.to_dict()
            locked.file_format = file_format.to_dict()
            locked.last_delivery_at = timezone.now()
            locked.last_error = ""
            locked.save()
    except BaseException:
        stored.unlink(missing_ok=True)
        raise

    source.refresh_from_db()
    outcome.data_import = data_import
    logger.info(
        "source %s accepted %s rows from %s (import %s)",
        source.pk,
        result.rows,
        file_name,
        data_import.pk,
    )
    outcome.refreshed = refresh_source_feeds(source)
    return outcome


def _data_range(dataset: str, stored: Path) -> tuple[date | None, date | None]:
    with open_files({dataset: stored}) as tables:
        table = tables[dataset]
        lows, highs = [], []
        for name in AS_OF_FIELDS[dataset]:
            if name not in table.columns:
                continue
            column = table[name]
            low, high = (
                table.aggregate(low=column.min(), high=column.max()).execute().iloc[0]
            )
            lows.append(low)
            highs.append(high)
    return _as_date(min(_present(lows), default=None)), _as_date(
        max(_present(highs), default=None)
    )


def _present(values: list[Any]) -> list[Any]:
    return [v for v in values if v is not None and v == v]  # NaT != NaT


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date()  # type: ignore[no-any-return]
    return value if isinstance(value, date) else None


# SQL sources


def sql_config(source: DataSource) -> sql_source.SqlSource:
    if source.sql_url_env:
        url = f"env:{source.sql_url_env}"
    else:
        url = credentials.decrypt(source.sql_url_encrypted)
    return sql_source.SqlSource(
        url=url, table=source.sql_table or None, query=source.sql_query or None
    )


def check_sql_source(source: DataSource) -> list[RefreshOutcome]:
    """Look for new data in a SQL source; refresh its feeds if there is."""
    now = timezone.now()
    try:
        mapping = ColumnMapping.from_dict(source.mapping)
        fingerprint = sql_source.source_fingerprint(sql_config(source), mapping)
    except Exception as error:
        DataSource.objects.filter(pk=source.pk).update(
            last_checked_at=now, last_error=str(error)[:2000]
        )
        logger.warning("source %s could not be read: %s", source.pk, error)
        return []
    changed = fingerprint != source.last_fingerprint
    updates: dict[str, Any] = {"last_checked_at": now, "last_error": ""}
    if changed:
        updates |= {"last_fingerprint": fingerprint, "last_delivery_at": now}
    DataSource.objects.filter(pk=source.pk).update(**updates)
    source.refresh_from_db()
    return refresh_source_feeds(source) if changed else []


def refresh_due(now: datetime | None = None) -> list[RefreshOutcome]:
    """The scheduled pass.

    SQL sources whose look-again time has come are read for new data (and
    their feeds refreshed when there is some). Every other feed is
    recomputed once a day too, so a period that has just ended is reported
    without waiting for the next delivery.
    """
    now = now or timezone.now()
    outcomes: list[RefreshOutcome] = []
    for source in DataSource.objects.filter(kind=SourceKind.SQL):
        checked = source.last_checked_at
        hours = source.refresh_every_hours
        if checked is not None and (now - checked).total_seconds() < hours * 3600:
            continue
        outcomes.extend(check_sql_source(source))
    refreshed = {outcome.feed.pk for outcome in outcomes}
    day_ago = now - timedelta(days=1)
    stale_feeds = KeyResultFeed.objects.exclude(pk__in=refreshed).filter(
        Q(last_refreshed_at__isnull=True) | Q(last_refreshed_at__lt=day_ago)
    )
    outcomes.extend(refresh_feed(feed) for feed in stale_feeds)
    return outcomes


# Reading a source


@dataclass(frozen=True)
class DataVersion:
    """What identifies the data a computation read."""

    label: str
    data_import: DataImport | None
    data_end: date | None


@contextmanager
def open_source(source: DataSource) -> Iterator[tuple[Any, DataVersion]]:
    """The canonical table of a source, where its data lives."""
    if source.kind == SourceKind.FILE:
        current = source.current_import()
        if current is None:
            raise FeedError(f"{source} has no data yet: upload a file first.")
        with open_files({source.dataset: current.path}) as tables:
            version = DataVersion(
                label=f"{current.file_name} (sha256 {current.sha256[:12]})",
                data_import=current,
                data_end=current.data_end,
            )
            yield tables[source.dataset], version
        return

    mapping = ColumnMapping.from_dict(source.mapping)
    config = sql_config(source)
    with sql_source.open_canonical(config, mapping) as table:
        highs = [
            table[name].max()
            for name in AS_OF_FIELDS[source.dataset]
            if name in table.columns
        ]
        end = _as_date(max(_present([h.execute() for h in highs]), default=None))
        version = DataVersion(
            label=source.last_fingerprint or "live query",
            data_import=None,
            data_end=end,
        )
        yield table, version


# Feeds


@dataclass
class RefreshOutcome:
    feed: KeyResultFeed
    written: int = 0
    unchanged: int = 0
    baseline: Decimal | None = None
    error: str = ""
    skipped: str = ""


def feed_filters(feed: KeyResultFeed) -> Filters:
    return Filters(segments=tuple(feed.segments), products=tuple(feed.products))


# The longest range one computation covers: ten years of months. Longer
# ranges cost minutes of server time for a chart nobody can read.
MAX_YEARS = 10


def span_problem(first: date, last: date) -> str:
    """Why a KPI range cannot be computed, or "" when it can."""
    if first.year < 1900 or last.year > 2200:
        return "Pick dates between the years 1900 and 2200."
    if (last - first).days > MAX_YEARS * 366:
        return f"Pick a range of at most {MAX_YEARS} years."
    return ""


def compute_series(
    source: DataSource,
    kpi_key: str,
    kpi_settings: Mapping[str, Any],
    grain: str,
    first: date,
    last: date,
    *,
    filters: Filters | None = None,
    payments: DataSource | None = None,
) -> tuple[list[SeriesPoint], DataVersion]:
    """A KPI's series over [first, last] at a grain, from a source."""
    problem = span_problem(first, last)
    if problem:
        raise FeedError(problem)
    kpi = get_kpi(kpi_key)
    cleaned = kpi.clean_settings(kpi_settings)
    organisation = Organisation.get()
    periods = periods_for(
        _grain(grain), first, last, organisation.fiscal_year_start_month
    )
    with ExitStack() as stack:
        table, version = stack.enter_context(open_source(source))
        tables = {kpi.dataset: table}
        if payments is not None:
            payments_table, _ = stack.enter_context(open_source(payments))
            tables["payments"] = payments_table
        points = kpi.series(tables, cleaned, periods, filters or Filters())
    return points, version


def refresh_source_feeds(source: DataSource) -> list[RefreshOutcome]:
    feeds = KeyResultFeed.objects.filter(source=source) | KeyResultFeed.objects.filter(
        payments_source=source
    )
    return [refresh_feed(feed) for feed in feeds.select_related("key_result")]


def refresh_feed(feed: KeyResultFeed, *, today: date | None = None) -> RefreshOutcome:
    """Recompute a fed key result and record what is new.

    Errors are kept on the feed for its owner to see; they never touch the
    key result's history.
    """
    outcome = RefreshOutcome(feed=feed)
    try:
        _refresh(feed, outcome, today)
    except (FeedError, ValidationError, ValueError) as error:
        outcome.error = _message(error)
    except Exception as error:
        logger.exception("feed %s failed", feed.pk)
        outcome.error = f"The KPI could not be computed: {error}"
    KeyResultFeed.objects.filter(pk=feed.pk).update(
        last_refreshed_at=timezone.now(), last_error=outcome.error[:2000]
    )
    return outcome


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def _refresh(feed: KeyResultFeed, outcome: RefreshOutcome, today: date | None) -> None:
    key_result = KeyResult.objects.select_related("objective__cycle").get(
        pk=feed.key_result_id
    )
    if key_result.kind == Kind.MILESTONE:
        raise FeedError("A milestone cannot be fed by a KPI.")
    if key_result.archived or key_result.objective.archived:
        # Archived work keeps its history and is not recomputed; restoring
        # it lets the next refresh catch up.
        outcome.skipped = "archived"
        return
    cycle = key_result.objective.cycle
    organisation = Organisation.get()
    today = today or local_today(organisation.zone)
    kpi = get_kpi(feed.kpi)
    cleaned = kpi.clean_settings(feed.settings)

    source = feed.source
    with ExitStack() as stack:
        table, version = stack.enter_context(open_source(source))
        if version.data_end is None:
            raise FeedError(f"{source} holds no rows.")
        last = min(cycle.end_date, version.data_end, today)
        periods = periods_for(
            _grain(feed.grain),
            _day_before(cycle.start_date),
            last,
            organisation.fiscal_year_start_month,
        )
        tables = {kpi.dataset: table}
        if feed.payments_source is not None:
            payments, _ = stack.enter_context(open_source(feed.payments_source))
            tables["payments"] = payments
        points = kpi.series(tables, cleaned, periods, feed_filters(feed))

    computed_at = timezone.now()
    context = _ReadingContext(
        feed=feed,
        source=source,
        version=version,
        kpi_label=kpi.label,
        settings=cleaned,
        conventions=kpi.conventions(cleaned),
        computed_at=computed_at,
        unit=kpi.unit,
    )
    # A period the data does not yet cover to its end is not reported: a
    # quarter's DSO needs its third month end, a month its last snapshot.
    data_end = version.data_end
    complete = [p for p in points if p.period.end <= min(data_end, today)]
    before = [p for p in complete if p.period.end < cycle.start_date]
    within = [p for p in complete if p.period.end >= cycle.start_date]
    with transaction.atomic():
        if feed.baseline_from_data:
            outcome.baseline = _set_baseline(key_result, before, within, context)
        for point in within:
            if point.value is None:
                continue
            if _write_point(key_result, point, point.period.end, context):
                outcome.written += 1
            else:
                outcome.unchanged += 1
    logger.info(
        "feed %s refreshed: %s written, %s unchanged",
        feed.pk,
        outcome.written,
        outcome.unchanged,
    )


def _grain(value: str) -> Literal["month", "quarter"]:
    if value == "quarter":
        return "quarter"
    if value == "month":
        return "month"
    raise FeedError(f"{value!r} is not a period grain; use month or quarter.")


def _day_before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1)


@dataclass(frozen=True)
class _ReadingContext:
    feed: KeyResultFeed
    source: DataSource
    version: DataVersion
    kpi_label: str
    settings: Mapping[str, Any]
    conventions: list[str]
    computed_at: datetime
    unit: str


def jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as JSON can hold them: decimals as their exact text."""
    return {
        key: format(value, "f") if isinstance(value, Decimal) else value
        for key, value in values.items()
    }


def to_value(point_value: float) -> Decimal:
    """A computed float as a stored value: 2 decimal places, half-even."""
    return Decimal(repr(point_value)).quantize(TWO_PLACES, rounding=ROUND_HALF_EVEN)


def _set_baseline(
    key_result: KeyResult,
    before: list[SeriesPoint],
    within: list[SeriesPoint],
    context: _ReadingContext,
) -> Decimal | None:
    """The value at the cycle start: the last period ending before it, or
    the first period of the cycle when the data starts later."""
    known_before = [p for p in before if p.value is not None]
    known_within = [p for p in within if p.value is not None]
    if known_before:
        point, how = known_before[-1], "the last period before the cycle start"
    elif known_within:
        point = known_within[0]
        how = "the first period of the cycle (no data before the cycle start)"
    else:
        return None
    assert point.value is not None
    baseline = to_value(point.value)
    if key_result.start_value == baseline:
        return baseline
    expected = key_result.version
    key_result.start_value = baseline
    okr_services.update_key_result(
        context.feed.created_by,
        key_result,
        expected,
        reason=f"Baseline from {context.feed.source}: {how}.",
    )
    FeedReading.objects.create(
        key_result=key_result,
        check_in=None,
        is_baseline=True,
        **_reading_fields(point, context),
        detail=point.detail | {"baseline_from": how},
    )
    return baseline


def _reading_fields(point: SeriesPoint, context: _ReadingContext) -> dict[str, Any]:
    feed = context.feed
    return {
        "feed": feed,
        "source_name": context.source.name,
        "source": context.source,
        "data_import": context.version.data_import,
        "data_version": context.version.label[:200],
        "kpi": feed.kpi,
        "kpi_label": context.kpi_label,
        "settings": jsonable(context.settings),
        "conventions": list(context.conventions),
        "filters": {"segments": feed.segments, "products": feed.products},
        "period_start": point.period.start,
        "period_end": point.period.end,
        "period_label": point.period.label,
        "rows_read": point.rows,
        "numerator": point.numerator,
        "denominator": point.denominator,
        "computed_at": context.computed_at,
    }


def _write_point(
    key_result: KeyResult,
    point: SeriesPoint,
    as_of: date,
    context: _ReadingContext,
) -> bool:
    """Record a period's value unless the same value is already on record."""
    assert point.value is not None
    value = to_value(point.value)
    latest = (
        FeedReading.objects.filter(
            key_result=key_result,
            period_end=point.period.end,
            check_in__isnull=False,
        )
        .select_related("check_in")
        .order_by("-check_in__created_at", "-pk")
        .first()
    )
    if (
        latest is not None
        and latest.check_in is not None
        and latest.check_in.value == value
        and latest.check_in.as_of == as_of
    ):
        return False

    note = f"{context.kpi_label}, {point.period.label}"
    if latest is not None:
        note += " (revised: the data or the feed's settings changed)"
    check_in = okr_services.record_check_in(
        context.feed.created_by,
        key_result,
        as_of=as_of,
        value=value,
        note=note,
        source=CheckInSource.DATA,
    )
    FeedReading.objects.create(
        key_result=key_result,
        check_in=check_in,
        **_reading_fields(point, context),
        detail=point.detail,
    )
    return True


# Housekeeping


def delete_source(user: User, source: DataSource) -> None:
    """Delete a source no key result reads any more, and its files."""
    feeds = KeyResultFeed.objects.filter(
        Q(source=source) | Q(payments_source=source)
    ).select_related("key_result")
    if feeds:
        titles = ", ".join(f"'{feed.key_result.title}'" for feed in feeds[:5])
        raise FeedError(
            f"{source} still feeds {len(feeds)} key result(s) ({titles}); "
            "stop those feeds first. Nothing was deleted."
        )
    pk = source.pk
    folder = source_folder(source)
    with transaction.atomic():
        source.delete()
    if folder.is_dir():
        shutil.rmtree(folder)
    logger.info("source %s deleted by user %s", pk, user.pk)


def source_folder(source: DataSource) -> Path:
    return Path(settings.CREDIT_DATA_DIR) / f"source-{source.pk}"


def upload_folder() -> Path:
    folder = Path(settings.CREDIT_DATA_DIR) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder
