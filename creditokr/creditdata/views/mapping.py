"""The column-mapping screen's form, without a fixed set of fields.

The screen has one row per canonical field and, for loan tapes that come
one row per account, lines of a wide layout. Its state is kept as flat
form values (what a browser sends), so a first visit prefilled from the
source's saved mapping and a re-shown submission render the same way:
`initial_state` builds the values, `read_mapping` turns them into an
ingest Mapping, `field_rows` and `wide_lines` lay them out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as AnyMapping
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from datetime import date
from typing import Any, Protocol

from django.http import QueryDict

from creditokr.creditdata.canonical import DATASETS, Field, FieldType
from creditokr.creditdata.ingest.errors import MappingError
from creditokr.creditdata.ingest.mapping import (
    DEFAULT_FALSE,
    DEFAULT_TRUE,
    PERIOD_FIELD,
    FieldMapping,
    Mapping,
    WidePeriod,
    check_mapping,
)
from creditokr.creditdata.ingest.parsing import human_date_format
from creditokr.creditdata.ingest.readers import DATE_FORMATS
from creditokr.creditdata.models import DataSource

State = dict[str, str]


class Columns(Protocol):
    """What the screen knows of the table being mapped: a sniffed file or
    a SQL source."""

    @property
    def columns(self) -> Sequence[str]: ...

    # Formats that read every value of a text column; empty when the
    # table's own types say what a column holds.
    @property
    def date_formats(self) -> AnyMapping[str, tuple[str, ...]]: ...


# Fields that change from one period to the next in a wide table.
PER_PERIOD: dict[str, tuple[str, ...]] = {
    "account_snapshots": ("dpd", "balance", "state"),
}
WIDE_ENTITY = {"account_snapshots": "account"}
NEW_WIDE_LINES = 1
TEXT = "text"
# The refused rows a mapping screen lists; the rest are counted.
ERRORS_SHOWN = 200
THOUSANDS_CHOICES = [
    ("", "none"),
    (",", ", (comma)"),
    (".", ". (point)"),
    (" ", "space"),
    ("'", "' (apostrophe)"),
]


def key(name: str, part: str) -> str:
    return f"f-{name}-{part}"


# The inputs of one canonical field in the form, one per setting.
PARTS = tuple(f.name for f in dataclass_fields(FieldMapping))


def wide_key(index: int, part: str) -> str:
    return f"w-{index}-{part}"


# From a saved mapping or the file's header to form values


def initial_state(dataset: str, table: Columns, saved: AnyMapping[str, Any]) -> State:
    """Form values for a first visit: the saved mapping where its columns
    are in the table, else columns whose names match the field."""
    columns = table.columns
    state: State = {}
    mapping = _saved_mapping(dataset, saved)
    kept = mapping.fields if mapping else {}
    for spec_field in DATASETS[dataset].fields:
        fm = kept.get(spec_field.name)
        if fm is not None and (fm.column is None or fm.column in columns):
            state |= field_state(spec_field.name, fm)
            continue
        column = match_column(spec_field, columns)
        state |= field_state(spec_field.name, FieldMapping(column=column))
        formats = table.date_formats.get(column or "", ())
        if len(formats) == 1:
            state[key(spec_field.name, "date_format")] = formats[0]
    if mapping and mapping.wide and _wide_columns_present(mapping, columns):
        state |= wide_state(mapping.wide)
    return state


def _saved_mapping(dataset: str, saved: AnyMapping[str, Any]) -> Mapping | None:
    if not saved:
        return None
    try:
        mapping = Mapping.from_dict(dict(saved))
    except MappingError:
        return None
    return mapping if mapping.dataset == dataset else None


def _wide_columns_present(mapping: Mapping, columns: Sequence[str]) -> bool:
    wanted = {c for p in mapping.wide for c in p.columns.values()}
    return wanted <= set(columns)


def field_state(name: str, fm: FieldMapping) -> State:
    state = {
        key(name, "column"): fm.column or "",
        key(name, "constant"): fm.constant or "",
        key(name, "date_format"): fm.date_format or "",
        key(name, "decimal_separator"): fm.decimal_separator,
        key(name, "thousands_separator"): fm.thousands_separator,
        key(name, "true_values"): ", ".join(fm.true_values),
        key(name, "false_values"): ", ".join(fm.false_values),
        key(name, "value_map"): "\n".join(
            f"{source} = {target}" for source, target in fm.value_map.items()
        ),
        key(name, "transform"): fm.transform,
    }
    return state


def wide_state(periods: Sequence[WidePeriod]) -> State:
    state: State = {"wide": "on", "wide_lines": str(len(periods))}
    for index, period in enumerate(periods):
        state[wide_key(index, PERIOD_FIELD)] = period.as_of.isoformat()
        for name, column in period.columns.items():
            state[wide_key(index, name)] = column
    return state


def simplified(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def match_column(spec_field: Field, columns: Sequence[str]) -> str | None:
    """The column named like the field (or its label), ignoring case,
    spaces and punctuation: InvoiceDate matches invoice_date."""
    wanted = {simplified(spec_field.name), simplified(spec_field.label)}
    for column in columns:
        if simplified(column) in wanted:
            return column
    return None


# From form values to a Mapping


@dataclass
class ReadMapping:
    mapping: Mapping
    # Problems found while reading the form itself, by field name ("" for
    # the wide layout).
    problems: dict[str, list[str]] = field(default_factory=dict)


def read_mapping(dataset: str, data: AnyMapping[str, Any]) -> ReadMapping:
    """The Mapping the form values describe, and what could not be read."""
    problems: dict[str, list[str]] = {}
    wide = bool(data.get("wide"))
    per_period = PER_PERIOD.get(dataset, ()) if wide else ()
    fields: dict[str, FieldMapping] = {}
    for spec_field in DATASETS[dataset].fields:
        if wide and spec_field.name == PERIOD_FIELD:
            continue
        fm, errors = _read_field(spec_field, data)
        if errors:
            problems[spec_field.name] = errors
        if fm.column or fm.constant is not None or spec_field.name in per_period:
            fields[spec_field.name] = fm
    periods: tuple[WidePeriod, ...] = ()
    if wide:
        periods, errors = _read_wide(dataset, data)
        if errors:
            problems[""] = errors
    return ReadMapping(Mapping(dataset, fields, periods), problems)


def _read_field(
    spec_field: Field, data: AnyMapping[str, Any]
) -> tuple[FieldMapping, list[str]]:
    name = spec_field.name

    def text(part: str) -> str:
        return str(data.get(key(name, part), "")).strip()

    value_map, errors = _read_value_map(text("value_map"), spec_field)
    fm = FieldMapping(
        column=text("column") or None,
        constant=text("constant") or None,
        date_format=text("date_format") or None,
        decimal_separator=text("decimal_separator") or ".",
        thousands_separator=str(data.get(key(name, "thousands_separator"), "")),
        true_values=_words(text("true_values")) or DEFAULT_TRUE,
        false_values=_words(text("false_values")) or DEFAULT_FALSE,
        value_map=value_map,
        transform=text("transform") or "days",
    )
    return fm, errors


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(",") if w.strip())


def _read_value_map(text: str, spec_field: Field) -> tuple[dict[str, str], list[str]]:
    """Lines of "source value = canonical choice"."""
    result: dict[str, str] = {}
    errors = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        source, equals, target = line.rpartition("=")
        if not equals or not source.strip():
            example = spec_field.choices[0] if spec_field.choices else "value"
            errors.append(
                f"{spec_field.label}, value map line {number}: write it as "
                f"“value in the file = {example}”."
            )
            continue
        result[source.strip()] = target.strip()
    return result, errors


def _read_wide(
    dataset: str, data: AnyMapping[str, Any]
) -> tuple[tuple[WidePeriod, ...], list[str]]:
    periods, errors = [], []
    for index in range(line_count(data)):
        raw_date = str(data.get(wide_key(index, PERIOD_FIELD), "")).strip()
        columns = {
            name: str(data.get(wide_key(index, name), "")).strip()
            for name in PER_PERIOD.get(dataset, ())
        }
        columns = {name: column for name, column in columns.items() if column}
        if not raw_date and not columns:
            continue
        try:
            as_of = date.fromisoformat(raw_date)
        except ValueError:
            errors.append(
                f"Wide layout, line {index + 1}: {raw_date!r} is not a date "
                "(YYYY-MM-DD)."
            )
            continue
        periods.append(WidePeriod(as_of, columns))
    if not periods:
        errors.append("Wide layout: give at least one line with its date.")
    return tuple(periods), errors


def with_extra_line(state: QueryDict) -> QueryDict:
    """The submitted values with one more line in the wide layout."""
    extended = state.copy()
    extended["wide_lines"] = str(line_count(state) + 1)
    extended["wide"] = "on"
    return extended


def mapping_problems(
    read: ReadMapping,
    columns: Sequence[str],
    column_types: dict[str, str] | None = None,
) -> dict[str, list[str]]:
    """What is wrong with the mapping, by canonical field ("" for others)."""
    problems = {name: list(found) for name, found in read.problems.items()}
    for problem in check_mapping(read.mapping, columns, typed_columns=column_types):
        problems.setdefault(problem.field or "", []).append(problem.message)
    return problems


def line_count(data: AnyMapping[str, Any]) -> int:
    try:
        count = int(str(data.get("wide_lines", "0")))
    except ValueError:
        return 0
    return max(0, min(count, 240))


# Laying the form out


@dataclass(frozen=True)
class FieldRow:
    spec: Field
    values: dict[str, str]
    date_choices: list[tuple[str, str]]
    detected: tuple[str, ...]
    per_period: bool
    errors: list[str]
    # How the database stores the chosen column (SQL sources): "date",
    # "number", ..., or "text".
    stored_as: str = ""

    @property
    def is_date(self) -> bool:
        return self.spec.type in (FieldType.DATE, FieldType.TIMESTAMP)

    @property
    def is_number(self) -> bool:
        return self.spec.type in (FieldType.DECIMAL, FieldType.INTEGER)

    @property
    def is_boolean(self) -> bool:
        return self.spec.type == FieldType.BOOLEAN

    @property
    def is_choice(self) -> bool:
        return self.spec.type == FieldType.CHOICE

    @property
    def is_dpd(self) -> bool:
        return self.spec.name == "dpd"

    @property
    def ambiguous(self) -> bool:
        return len(self.detected) > 1

    @property
    def names(self) -> dict[str, str]:
        """The form's input names for this field, by part."""
        return {part: key(self.spec.name, part) for part in PARTS}


def field_rows(
    dataset: str,
    state: AnyMapping[str, Any],
    table: Columns,
    problems: AnyMapping[str, Sequence[str]],
) -> list[FieldRow]:
    wide = bool(state.get("wide"))
    per_period = PER_PERIOD.get(dataset, ()) if wide else ()
    rows = []
    for spec_field in DATASETS[dataset].fields:
        if wide and spec_field.name == PERIOD_FIELD:
            continue
        name = spec_field.name
        values = {part: str(state.get(key(name, part), "")) for part in PARTS}
        detected = table.date_formats.get(values["column"], ())
        rows.append(
            FieldRow(
                spec=spec_field,
                values=values,
                date_choices=date_choices(detected),
                detected=detected,
                per_period=name in per_period,
                errors=list(problems.get(name, ())),
            )
        )
    return rows


def date_choices(detected: Sequence[str]) -> list[tuple[str, str]]:
    """Date formats for a select: those that fit every value first."""
    first = [(f, f"{human_date_format(f)} (fits every value)") for f in detected]
    rest = [(f, human_date_format(f)) for f in DATE_FORMATS if f not in detected]
    return first + rest


@dataclass(frozen=True)
class WideLine:
    index: int
    as_of: str
    columns: list[tuple[str, str, str]]  # (field, input name, column)


def wide_lines(dataset: str, state: AnyMapping[str, Any]) -> list[WideLine]:
    names = PER_PERIOD.get(dataset, ())
    count = line_count(state) + NEW_WIDE_LINES
    return [
        WideLine(
            index=index,
            as_of=str(state.get(wide_key(index, PERIOD_FIELD), "")),
            columns=[
                (name, wide_key(index, name), str(state.get(wide_key(index, name), "")))
                for name in names
            ],
        )
        for index in range(count)
    ]


def mapping_layout(
    dataset: str,
    state: AnyMapping[str, Any],
    table: Columns,
    problems: AnyMapping[str, Sequence[str]],
    column_types: AnyMapping[str, str] | None = None,
) -> dict[str, Any]:
    """What the template's mapping table and wide layout need: the column
    choices carry their stored types when `column_types` is given."""

    def note(column: str) -> str:
        if column_types is None or not column:
            return ""
        return column_types.get(column, TEXT)

    header = [(column, note(column)) for column in table.columns]
    rows = [
        replace(row, stored_as=note(row.values["column"]))
        for row in field_rows(dataset, state, table, problems)
    ]
    return {
        "rows": rows,
        "header": header,
        "column_choices": [(c, f"{c} ({n})" if n else c) for c, n in header],
        "wide_supported": dataset in PER_PERIOD,
        "wide": bool(state.get("wide")),
        "wide_lines": wide_lines(dataset, state),
        "thousands_choices": THOUSANDS_CHOICES,
    }


# The summary on a source's page


@dataclass(frozen=True)
class SummaryRow:
    label: str
    source: str
    reading: str


@dataclass(frozen=True)
class SummaryLine:
    as_of: date
    columns: str


@dataclass(frozen=True)
class MappingSummary:
    rows: list[SummaryRow]
    wide: list[SummaryLine]
    wide_entity: str = ""


def mapping_summary(source: DataSource) -> MappingSummary:
    """What each canonical field is read from, in words."""
    mapping = _saved_mapping(source.dataset, source.mapping)
    if mapping is None:
        return MappingSummary([], [])
    spec = DATASETS[source.dataset]
    rows = []
    for spec_field in spec.fields:
        fm = mapping.fields.get(spec_field.name)
        if fm is None:
            continue
        if fm.column:
            origin = f"column {fm.column}"
        elif fm.constant is not None:
            origin = f"always “{fm.constant}”"
        else:
            origin = "each period's column"
        rows.append(SummaryRow(spec_field.label, origin, _reading(spec_field, fm)))
    wide = [
        SummaryLine(p.as_of, ", ".join(f"{k}: {v}" for k, v in p.columns.items()))
        for p in mapping.wide
    ]
    return MappingSummary(rows, wide, WIDE_ENTITY.get(source.dataset, "entity"))


def _reading(spec_field: Field, fm: FieldMapping) -> str:
    parts = []
    if fm.date_format:
        parts.append(f"dates as {human_date_format(fm.date_format)}")
    is_number = spec_field.type in (FieldType.DECIMAL, FieldType.INTEGER)
    if is_number and (fm.decimal_separator != "." or fm.thousands_separator):
        parts.append(
            f"decimal “{fm.decimal_separator}”, thousands "
            f"“{fm.thousands_separator or 'none'}”"
        )
    if fm.transform == "months_past_due":
        parts.append("months past due times 30 days")
    if fm.value_map:
        parts.append(
            "; ".join(f"{source} → {target}" for source, target in fm.value_map.items())
        )
    if spec_field.type == FieldType.BOOLEAN and (
        fm.true_values != DEFAULT_TRUE or fm.false_values != DEFAULT_FALSE
    ):
        parts.append(
            f"yes: {', '.join(fm.true_values)}; no: {', '.join(fm.false_values)}"
        )
    return "; ".join(parts)
