"""Credit data sources, their deliveries and the key results they feed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone

from creditokr.accounts.models import Team
from creditokr.creditdata.canonical import DATASETS
from creditokr.creditdata.engine.kpis import KPIS
from creditokr.okrs.models import CheckIn, KeyResult

DATASET_CHOICES = [(d.key, d.label) for d in DATASETS.values()]


class SourceKind(models.TextChoices):
    FILE = "file", "Files (CSV, XLSX, Parquet)"
    SQL = "sql", "SQL database (PostgreSQL, SQLite)"


class DataSource(models.Model):
    """Where one canonical dataset comes from, and how its columns map.

    A file source receives deliveries (uploads); each becomes a DataImport
    and only the latest is read. A SQL source is read where it lives: the
    KPI queries run in that database.
    """

    name = models.CharField(max_length=200, unique=True)
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="data_sources",
        help_text="Its members may see this data; its managers change it.",
    )
    dataset = models.CharField(max_length=30, choices=DATASET_CHOICES)
    kind = models.CharField(
        max_length=10, choices=SourceKind.choices, default=SourceKind.FILE
    )
    description = models.TextField(blank=True)
    attribution = models.TextField(
        blank=True, help_text="Where the data comes from and its licence."
    )
    # How the columns of a delivery map onto the canonical dataset, and how
    # the file is read (delimiter, encoding...). JSON from the ingest module.
    mapping = models.JSONField(default=dict, blank=True)
    file_format = models.JSONField(default=dict, blank=True)
    # SQL sources: the connection URL is kept encrypted, or named as an
    # environment variable, and never shown back.
    sql_url_encrypted = models.TextField(blank=True)
    sql_url_env = models.CharField(
        "URL from environment variable", max_length=100, blank=True
    )
    sql_table = models.CharField(max_length=200, blank=True)
    sql_query = models.TextField(blank=True)
    expected_every_days = models.PositiveIntegerField(
        "Expected delivery interval (days)",
        default=31,
        help_text="Key results fed by this source are flagged as stale when "
        "no new data arrived for this long.",
    )
    refresh_every_hours = models.PositiveIntegerField(
        default=24,
        help_text="SQL sources: how often to look for new data.",
    )
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_fingerprint = models.CharField(max_length=128, blank=True)
    last_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def dataset_label(self) -> str:
        return DATASETS[self.dataset].label

    def stale_since(self, now: Any = None) -> Any:
        """When the source became overdue, or None while it is on time."""
        if self.last_delivery_at is None:
            return None
        due = self.last_delivery_at + timedelta(days=self.expected_every_days)
        return due if due <= (now or timezone.now()) else None

    @property
    def is_stale(self) -> bool:
        return self.stale_since() is not None

    def current_import(self) -> DataImport | None:
        return self.imports.filter(is_current=True).first()


class DataImport(models.Model):
    """One accepted delivery of a file source, stored as canonical Parquet."""

    source = models.ForeignKey(
        DataSource, on_delete=models.CASCADE, related_name="imports"
    )
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveBigIntegerField()
    data_start = models.DateField(null=True, blank=True)
    data_end = models.DateField(null=True, blank=True)
    # Relative to settings.CREDIT_DATA_DIR.
    stored_path = models.CharField(max_length=500)
    mapping = models.JSONField(default=dict)
    is_current = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source"],
                condition=models.Q(is_current=True),
                name="one_current_import_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.rows} rows)"

    @property
    def path(self) -> Path:
        return Path(django_settings.CREDIT_DATA_DIR) / self.stored_path


class Grain(models.TextChoices):
    MONTH = "month", "Month"
    QUARTER = "quarter", "Fiscal quarter"


class KeyResultFeed(models.Model):
    """A key result whose value is a credit KPI computed from a source."""

    key_result = models.OneToOneField(
        KeyResult, on_delete=models.CASCADE, related_name="feed"
    )
    source = models.ForeignKey(
        DataSource, on_delete=models.PROTECT, related_name="feeds"
    )
    payments_source = models.ForeignKey(
        DataSource,
        on_delete=models.PROTECT,
        related_name="payment_feeds",
        null=True,
        blank=True,
        help_text="Receivables KPIs: payments applied, for partial payments.",
    )
    kpi = models.CharField("KPI", max_length=50)
    settings = models.JSONField(default=dict, blank=True)
    segments = models.JSONField(default=list, blank=True)
    products = models.JSONField(default=list, blank=True)
    grain = models.CharField(max_length=10, choices=Grain.choices, default=Grain.MONTH)
    baseline_from_data = models.BooleanField(
        default=True,
        help_text="Take the baseline from the data at the cycle start.",
    )
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.key_result} ← {self.kpi} ({self.source})"

    @property
    def kpi_label(self) -> str:
        kpi = KPIS.get(self.kpi)
        return kpi.label if kpi is not None else self.kpi


class FeedReading(models.Model):
    """Where a data check-in's value came from: its provenance."""

    key_result = models.ForeignKey(
        KeyResult, on_delete=models.CASCADE, related_name="readings"
    )
    # Empty for the reading that set the key result's baseline.
    check_in = models.OneToOneField(
        CheckIn,
        on_delete=models.CASCADE,
        related_name="reading",
        null=True,
        blank=True,
    )
    feed = models.ForeignKey(
        KeyResultFeed,
        on_delete=models.SET_NULL,
        null=True,
        related_name="readings",
    )
    # The source's name as it was, and the source while it exists: its
    # details are shown only to people who may see it.
    source_name = models.CharField(max_length=200)
    source = models.ForeignKey(
        DataSource,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="readings",
    )
    data_import = models.ForeignKey(
        DataImport, on_delete=models.SET_NULL, null=True, blank=True
    )
    # For SQL sources, what identified the data read (row count, latest
    # date...); for files, the import's checksum.
    data_version = models.CharField(max_length=200)
    kpi = models.CharField(max_length=50)
    kpi_label = models.CharField(max_length=200)
    settings = models.JSONField(default=dict)
    conventions = models.JSONField(default=list)
    filters = models.JSONField(default=dict)
    period_start = models.DateField()
    period_end = models.DateField()
    period_label = models.CharField(max_length=40)
    rows_read = models.PositiveBigIntegerField()
    numerator = models.FloatField(null=True)
    denominator = models.FloatField(null=True)
    detail = models.JSONField(default=dict)
    computed_at = models.DateTimeField()
    is_baseline = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.kpi} {self.period_label}"
