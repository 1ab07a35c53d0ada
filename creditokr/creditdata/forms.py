"""Forms of the credit-data screens.

The source form never shows a stored connection URL back: the password
field starts empty, and leaving it empty on an edit keeps the saved one.
A SQL source is only saved once a connection to it has worked. KPI
settings have no fixed fields: `settings_fields` builds one field per
setting the chosen KPI declares.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from creditokr.creditdata import access, credentials
from creditokr.creditdata.canonical import DATASETS
from creditokr.creditdata.engine.kpis import KPIS
from creditokr.creditdata.engine.kpis.base import KPI
from creditokr.creditdata.engine.settings import Setting
from creditokr.creditdata.ingest import sql_source
from creditokr.creditdata.ingest.errors import IngestError
from creditokr.creditdata.ingest.readers import FileFormat
from creditokr.creditdata.models import DataSource, Grain, SourceKind
from creditokr.okrs.access import Actor

ENV_PREFIX = "env:"
WIDE_TEXT = forms.TextInput(attrs={"size": "60"})


# Sources


class SourceForm(forms.ModelForm[DataSource]):
    """Create or change a source; SQL sources are tried before saving."""

    sql_url = forms.CharField(
        label="Connection URL",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"size": "60"}),
        help_text="postgresql://user:password@host:5432/database, "
        "sqlite:///file.db (a file in the folder the administrator allows "
        "for SQLite sources), or env:CREDITOKR_SOURCE_NAME to read it from "
        "an environment variable of the server whose name starts with "
        "CREDITOKR_SOURCE_. Never shown again; leave empty to keep the "
        "saved one.",
    )

    class Meta:
        model = DataSource
        fields = [
            "name",
            "team",
            "dataset",
            "kind",
            "description",
            "attribution",
            "expected_every_days",
            "sql_table",
            "sql_query",
            "refresh_every_hours",
        ]
        labels = {"sql_table": "Table", "sql_query": "Query"}
        help_texts = {
            "sql_table": "SQL sources: a table or view to read (or a query).",
            "sql_query": "SQL sources: one SELECT statement (or a table).",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "attribution": forms.Textarea(attrs={"rows": 2}),
            "sql_query": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, actor: Actor, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.columns: list[str] = []
        team = self.fields["team"]
        assert isinstance(team, forms.ModelChoiceField)
        team.queryset = access.teams_for_new_sources(actor)
        if self.instance.pk:
            # What a source holds and how it is read are fixed once it
            # exists: its imports and feeds depend on them.
            self.fields["dataset"].disabled = True
            self.fields["kind"].disabled = True

    @property
    def is_sql(self) -> bool:
        kind = self.cleaned_data.get("kind") or self.instance.kind
        return bool(kind == SourceKind.SQL)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or not self.is_sql:
            return cleaned
        table = cleaned.get("sql_table", "").strip()
        query = cleaned.get("sql_query", "").strip()
        if bool(table) == bool(query):
            raise ValidationError(
                "Give either a table or a query for a SQL source, not both.",
            )
        url = cleaned.get("sql_url", "")
        if not url and not self.instance.pk:
            self.add_error("sql_url", "Give the connection URL of the database.")
            return cleaned
        self._try_connection(url, table, query)
        return cleaned

    def _try_connection(self, url: str, table: str, query: str) -> None:
        """Read the column names, which proves the source can be read."""
        if url:
            config = sql_source.SqlSource(
                url=url, table=table or None, query=query or None
            )
        else:
            config = _saved_config(self.instance, table, query)
        try:
            self.columns = list(sql_source.columns(config))
        except (IngestError, credentials.CredentialError) as error:
            message = scrub(str(error), url)
            raise ValidationError(f"The connection did not work: {message}") from None

    def save(self, commit: bool = True) -> DataSource:
        source = super().save(commit=False)
        url = self.cleaned_data.get("sql_url", "")
        if not self.is_sql:
            source.sql_url_encrypted = source.sql_url_env = ""
            source.sql_table = source.sql_query = ""
        elif url.startswith(ENV_PREFIX):
            source.sql_url_env = url.removeprefix(ENV_PREFIX)
            source.sql_url_encrypted = ""
        elif url:
            source.sql_url_encrypted = credentials.encrypt(url)
            source.sql_url_env = ""
        if commit:
            source.save()
        return source


def _saved_config(source: DataSource, table: str, query: str) -> Any:
    if source.sql_url_env:
        url = ENV_PREFIX + source.sql_url_env
    else:
        url = credentials.decrypt(source.sql_url_encrypted)
    return sql_source.SqlSource(url=url, table=table or None, query=query or None)


def scrub(message: str, url: str) -> str:
    """A message with the URL and its password taken out, whatever said it.

    The ingest module already redacts URLs; this is the second lock. An
    env: URL is scrubbed of the URL its variable holds.
    """
    if url.startswith(ENV_PREFIX):
        try:
            url = sql_source.resolve_url(url)
        except IngestError:
            return message
    if not url:
        return message
    redacted = sql_source.redact_url(url)
    message = message.replace(url, redacted)
    for secret in sorted(_passwords(url), key=len, reverse=True):
        message = message.replace(secret, "***")
    return message


def _passwords(url: str) -> set[str]:
    """The password parts of a URL such as scheme://user:secret@host/db, or
    of a key=value connection string (password=secret)."""
    found = set()
    rest = url.partition("://")[2]
    credentials_part, at, _ = rest.rpartition("@")
    if at:
        found.add(credentials_part.partition(":")[2])
    for word in url.replace("&", " ").replace("?", " ").split():
        key, equals, value = word.partition("=")
        if equals and key.strip().lower() == "password":
            found.add(value.strip("'\""))
    return {secret for secret in found if secret}


# Uploads


class UploadForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text="CSV, XLSX or Parquet, up to 200 MB.",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".csv,.txt,.tsv,.xlsx,.parquet"}
        ),
    )


# KPI settings


def settings_fields(kpi: KPI, prefix: str = "s-") -> dict[str, forms.Field]:
    """One form field per setting of a KPI, named prefix + setting name."""
    return {prefix + s.name: setting_field(s) for s in kpi.settings}


def setting_field(setting: Setting) -> forms.Field:
    common: dict[str, Any] = {
        "label": setting.label,
        "help_text": setting.help,
        "initial": setting.default,
    }
    if setting.kind == "bool":
        return forms.BooleanField(required=False, **common)
    if setting.kind == "choice":
        return forms.ChoiceField(
            choices=[(str(v), label) for v, label in setting.choices],
            **common,
        )
    limits = {"min_value": setting.min, "max_value": setting.max}
    limits = {k: v for k, v in limits.items() if v is not None}
    if setting.kind == "int":
        # The KPI checks the value and its limits itself; the field only
        # shows a number input with them.
        return forms.CharField(
            widget=forms.NumberInput(attrs=_limit_attrs(limits, "1")), **common
        )
    return forms.CharField(
        widget=forms.NumberInput(attrs=_limit_attrs(limits, "any")), **common
    )


def _limit_attrs(limits: dict[str, Any], step: str) -> dict[str, str]:
    attrs = {"step": step}
    if "min_value" in limits:
        attrs["min"] = str(limits["min_value"])
    if "max_value" in limits:
        attrs["max"] = str(limits["max_value"])
    return attrs


def raw_settings(kpi: KPI, data: Any, prefix: str = "s-") -> dict[str, Any]:
    """The submitted settings of a KPI, as strings for `clean_settings`.

    A checkbox that is not ticked is absent from a form's data, so a bool
    setting is always given: "true" or "false".
    """
    raw: dict[str, Any] = {}
    for setting in kpi.settings:
        key = prefix + setting.name
        if setting.kind == "bool":
            raw[setting.name] = "true" if data.get(key) else "false"
        elif data.get(key, "") != "":
            raw[setting.name] = data.get(key)
    return raw


def settings_initial(
    kpi: KPI, values: dict[str, Any], prefix: str = "s-"
) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for setting in kpi.settings:
        value = values.get(setting.name, setting.default)
        if isinstance(value, Decimal | float):
            value = format(value, "f") if isinstance(value, Decimal) else value
        initial[prefix + setting.name] = value
    return initial


# Series choices shared by the explorer and the feed form


class SeriesForm(forms.Form):
    """What the explorer and a feed share: filters and grain."""

    segments = forms.CharField(
        required=False,
        widget=WIDE_TEXT,
        help_text="Comma-separated; empty means all segments.",
    )
    products = forms.CharField(
        required=False,
        widget=WIDE_TEXT,
        help_text="Comma-separated; empty means all products.",
    )
    grain = forms.ChoiceField(choices=Grain.choices, initial=Grain.MONTH)

    def clean_segments(self) -> list[str]:
        return split_list(self.cleaned_data["segments"])

    def clean_products(self) -> list[str]:
        return split_list(self.cleaned_data["products"])


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def kpi_choices(dataset: str) -> list[tuple[str, str]]:
    return [(k.key, k.label) for k in KPIS.values() if k.dataset == dataset]


def dataset_label(key: str) -> str:
    return DATASETS[key].label


# Feeds


class FeedForm(SeriesForm):
    """Which KPI of which source feeds a key result, and how."""

    source = forms.ModelChoiceField(
        queryset=DataSource.objects.none(), empty_label=None
    )
    payments_source = forms.ModelChoiceField(
        label="Payments source",
        queryset=DataSource.objects.none(),
        required=False,
        help_text="Optional: payments applied to the invoices, for partial payments.",
    )
    kpi = forms.ChoiceField(label="KPI")
    baseline_from_data = forms.BooleanField(
        label="Take the baseline from the data",
        required=False,
        initial=True,
        help_text="The value of the last period before the cycle starts "
        "becomes the key result's baseline.",
    )

    def __init__(self, actor: Actor, kpi: KPI, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chosen = kpi
        datasets = sorted({k.dataset for k in KPIS.values()})
        visible = access.visible_sources(actor)
        source = self.fields["source"]
        assert isinstance(source, forms.ModelChoiceField)
        source.queryset = visible.filter(dataset__in=datasets)
        payments = self.fields["payments_source"]
        assert isinstance(payments, forms.ModelChoiceField)
        payments.queryset = visible.filter(dataset="payments")
        if "payments" not in kpi.optional_datasets:
            del self.fields["payments_source"]
        choice = self.fields["kpi"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [
            (k.key, f"{k.label} ({dataset_label(k.dataset)})") for k in KPIS.values()
        ]
        self.fields |= settings_fields(kpi)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        source = cleaned.get("source")
        if source is not None and source.dataset != self.chosen.dataset:
            self.add_error(
                "kpi",
                f"{self.chosen.label} is computed from "
                f"{dataset_label(self.chosen.dataset).lower()}, and "
                f"{source.name} holds {dataset_label(source.dataset).lower()}. "
                "Choose a KPI of that dataset or another source.",
            )
        return cleaned

    def setting_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("s-")]


# How a file is read


DELIMITER_CHOICES = [
    ("", "Detect"),
    (",", "Comma ,"),
    (";", "Semicolon ;"),
    ("\t", "Tab"),
    ("|", "Pipe |"),
]
ENCODING_CHOICES = [
    ("", "Detect"),
    ("utf-8", "UTF-8"),
    ("utf-8-sig", "UTF-8 with BOM"),
    ("utf-16", "UTF-16"),
    ("cp1252", "Windows-1252 (Western Europe)"),
    ("latin-1", "Latin-1 (ISO-8859-1)"),
]


class FormatForm(forms.Form):
    """What the detector chose, for the person to correct."""

    prefix = "fmt"

    encoding = forms.ChoiceField(choices=ENCODING_CHOICES, required=False)
    delimiter = forms.ChoiceField(choices=DELIMITER_CHOICES, required=False)
    quote = forms.CharField(
        required=False, max_length=1, widget=forms.TextInput(attrs={"size": "2"})
    )
    sheet = forms.ChoiceField(choices=[("", "First sheet")], required=False)

    def __init__(self, *args: Any, sheets: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sheet = self.fields["sheet"]
        assert isinstance(sheet, forms.ChoiceField)
        sheet.choices = [("", "First sheet"), *((s, s) for s in sheets)]
        encoding = self.fields["encoding"]
        assert isinstance(encoding, forms.ChoiceField)
        current = (self.data.get("fmt-encoding") if self.is_bound else None) or (
            self.initial.get("encoding")
        )
        if current and current not in dict(ENCODING_CHOICES):
            encoding.choices = [*ENCODING_CHOICES, (current, current)]

    def file_format(self) -> FileFormat | None:
        """The person's choices, or None to detect everything."""
        if not self.is_valid():
            return None
        values = {k: v for k, v in self.cleaned_data.items() if v}
        return FileFormat(**values) if values else None


def format_initial(fmt: FileFormat) -> dict[str, Any]:
    return {
        "encoding": fmt.encoding or "",
        "delimiter": fmt.delimiter or "",
        "quote": fmt.quote,
        "sheet": fmt.sheet or "",
    }
