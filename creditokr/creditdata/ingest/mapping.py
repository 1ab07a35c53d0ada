"""How the columns of a user's table become a canonical dataset.

A `Mapping` says, for each canonical field, which source column (or which
constant) feeds it and how to read its values. It is plain data that
round-trips through JSON, so the web side can store it with the data
source. `canonical_table` turns a raw Ibis table into the canonical shape;
values that cannot be read become NULL, and `parsed_table` keeps the raw
text next to each parsed value so that validation can say what was wrong.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import ibis
import ibis.expr.datatypes as dt

from creditokr.creditdata.canonical import DATASETS, Dataset, Field, FieldType
from creditokr.creditdata.ingest.errors import MappingError, Problem
from creditokr.creditdata.ingest.parsing import (
    human_date_format,
    try_strptime,
    valid_date_format,
)

DEFAULT_TRUE = ("yes", "true", "1", "y")
DEFAULT_FALSE = ("no", "false", "0", "n")
TRANSFORMS = ("days", "months_past_due")
PERIOD_FIELD = "as_of"
# Dates outside these years are taken for typing mistakes.
FIRST_YEAR = 1800
LAST_YEAR = 2200
LINE = "__line"
PIECE = "__piece"
RAW = "__raw__"

_FIELD_KEYS = (
    "column",
    "constant",
    "date_format",
    "decimal_separator",
    "thousands_separator",
    "true_values",
    "false_values",
    "value_map",
    "transform",
)

DECIMAL = dt.Decimal(18, 4)
IBIS_TYPES: dict[FieldType, dt.DataType] = {
    FieldType.STRING: dt.string,
    FieldType.CHOICE: dt.string,
    FieldType.DATE: dt.date,
    FieldType.TIMESTAMP: dt.timestamp,
    FieldType.INTEGER: dt.int64,
    FieldType.DECIMAL: DECIMAL,
    FieldType.BOOLEAN: dt.boolean,
}


@dataclass(frozen=True)
class FieldMapping:
    """Where one canonical field comes from and how to read it."""

    column: str | None = None
    constant: str | None = None
    # strptime style, e.g. "%m/%d/%Y"; for dates and timestamps in text.
    date_format: str | None = None
    decimal_separator: str = "."
    thousands_separator: str = ""
    true_values: tuple[str, ...] = DEFAULT_TRUE
    false_values: tuple[str, ...] = DEFAULT_FALSE
    # For choice fields: source value -> canonical choice.
    value_map: dict[str, str] = field(default_factory=dict)
    # For days past due: "days", or "months_past_due" where a monthly
    # status k >= 1 means k x 30 days and anything lower means current.
    transform: str = "days"

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "constant": self.constant,
            "date_format": self.date_format,
            "decimal_separator": self.decimal_separator,
            "thousands_separator": self.thousands_separator,
            "true_values": list(self.true_values),
            "false_values": list(self.false_values),
            "value_map": dict(self.value_map),
            "transform": self.transform,
        }

    @classmethod
    def from_dict(cls, data: object, where: str) -> FieldMapping:
        values = _object(data, where)
        _only(values, _FIELD_KEYS, where)
        strings = ("column", "constant", "date_format")
        kwargs: dict[str, Any] = {
            k: _optional_str(values.get(k), f"{where}.{k}") for k in strings
        }
        for key in ("decimal_separator", "thousands_separator", "transform"):
            if key in values:
                kwargs[key] = _str(values[key], f"{where}.{key}")
        for key in ("true_values", "false_values"):
            if key in values:
                kwargs[key] = tuple(_str_list(values[key], f"{where}.{key}"))
        if "value_map" in values:
            table = _object(values["value_map"], f"{where}.value_map")
            kwargs["value_map"] = {
                str(k): _str(v, f"{where}.value_map[{k!r}]") for k, v in table.items()
            }
        return cls(**kwargs)


@dataclass(frozen=True)
class WidePeriod:
    """One month (or other period) of a wide table: the snapshot date and
    the source column of each field that changes from period to period."""

    as_of: date
    columns: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "columns": dict(self.columns)}

    @classmethod
    def from_dict(cls, data: object, where: str) -> WidePeriod:
        values = _object(data, where)
        _only(values, ("as_of", "columns"), where)
        raw_date = _str(values.get("as_of"), f"{where}.as_of")
        try:
            as_of = date.fromisoformat(raw_date)
        except ValueError as exc:
            raise MappingError(
                f"{where}.as_of: {raw_date!r} is not a date (YYYY-MM-DD)."
            ) from exc
        columns = _object(values.get("columns"), f"{where}.columns")
        return cls(
            as_of,
            {str(k): _str(v, f"{where}.columns.{k}") for k, v in columns.items()},
        )


@dataclass(frozen=True)
class Mapping:
    """A user's table mapped onto one canonical dataset."""

    dataset: str
    fields: dict[str, FieldMapping]
    # When set, the table is wide: one row per entity with a group of
    # columns per period, unpivoted to one row per entity per period.
    wide: tuple[WidePeriod, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "fields": {name: fm.to_dict() for name, fm in self.fields.items()},
            "wide": [period.to_dict() for period in self.wide],
        }

    @classmethod
    def from_dict(cls, data: object) -> Mapping:
        """Load a stored mapping; raises MappingError when it is malformed."""
        values = _object(data, "mapping")
        _only(values, ("dataset", "fields", "wide"), "mapping")
        dataset = _str(values.get("dataset"), "mapping.dataset")
        if dataset not in DATASETS:
            raise MappingError(f"mapping.dataset: unknown dataset {dataset!r}.")
        fields = _object(values.get("fields"), "mapping.fields")
        wide = values.get("wide") or []
        if not isinstance(wide, list):
            raise MappingError("mapping.wide must be a list of periods.")
        return cls(
            dataset=dataset,
            fields={
                str(name): FieldMapping.from_dict(fm, f"mapping.fields.{name}")
                for name, fm in fields.items()
            },
            wide=tuple(
                WidePeriod.from_dict(p, f"mapping.wide[{i}]")
                for i, p in enumerate(wide)
            ),
        )

    @property
    def spec(self) -> Dataset:
        return DATASETS[self.dataset]

    def source_columns(self) -> list[str]:
        """Every source column the mapping reads, in first-use order."""
        names = [fm.column for fm in self.fields.values() if fm.column]
        for period in self.wide:
            names.extend(period.columns.values())
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Piece:
    """The field mappings for one pass over the source: the whole table,
    or one period of a wide table."""

    index: int
    fields: dict[str, FieldMapping]
    label: str = ""


# JSON helpers ----------------------------------------------------------------


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MappingError(f"{where} must be an object.")
    return value


def _only(values: dict[str, Any], allowed: Collection[str], where: str) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise MappingError(f"{where}: unknown keys {', '.join(unknown)}.")


def _str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise MappingError(f"{where} must be a string.")
    return value


def _optional_str(value: object, where: str) -> str | None:
    return None if value is None else _str(value, where)


def _str_list(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MappingError(f"{where} must be a list of strings.")
    return value


# Pieces --------------------------------------------------------------------


def pieces(mapping: Mapping) -> list[Piece]:
    """One piece for a long table; one per period for a wide table."""
    if not mapping.wide:
        return [Piece(0, dict(mapping.fields))]

    result = []
    for index, period in enumerate(mapping.wide):
        fields = {
            name: fm
            for name, fm in mapping.fields.items()
            if name not in period.columns and (fm.column or fm.constant is not None)
        }
        for name, column in period.columns.items():
            template = mapping.fields.get(name, FieldMapping())
            fields[name] = replace(template, column=column)
        fields[PERIOD_FIELD] = FieldMapping(constant=period.as_of.isoformat())
        result.append(Piece(index, fields, label=period.as_of.isoformat()))
    return result


# Checks --------------------------------------------------------------------


def check_mapping(
    mapping: Mapping,
    columns: Sequence[str],
    *,
    typed_columns: dict[str, str] | None = None,
) -> list[Problem]:
    """Everything wrong with `mapping` for a table with `columns`.

    `typed_columns` gives the type ("date", "timestamp", "number",
    "boolean") of columns a SQL source already stores typed; those need no
    date format or separators. An empty list means the mapping can be used.
    """
    spec = mapping.spec
    typed = typed_columns or {}
    problems: list[Problem] = []
    known = {f.name for f in spec.fields}
    for name in mapping.fields:
        if name not in known:
            problems.append(Problem(name, None, f"{spec.label} has no field {name!r}."))

    problems.extend(_check_wide(mapping, spec, known))
    for piece in pieces(mapping):
        for f in spec.fields:
            fm = piece.fields.get(f.name)
            problems.extend(_check_field(f, fm, columns, typed, piece.label))
    problems.extend(_check_reuse(mapping, spec))
    return _unique(problems)


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _check_wide(mapping: Mapping, spec: Dataset, known: set[str]) -> list[Problem]:
    if not mapping.wide:
        return []
    problems = []
    if PERIOD_FIELD not in known:
        return [Problem(None, None, f"{spec.label} cannot be read from a wide table.")]
    fm = mapping.fields.get(PERIOD_FIELD)
    if fm is not None and (fm.column or fm.constant is not None):
        problems.append(
            Problem(
                PERIOD_FIELD,
                fm.column,
                "In a wide table the snapshot date comes from each period; "
                "do not map it to a column.",
            )
        )
    dates = Counter(p.as_of for p in mapping.wide)
    for as_of, n in sorted(dates.items()):
        if n > 1:
            problems.append(
                Problem(PERIOD_FIELD, None, f"The period {as_of} is listed {n} times.")
            )
    problems.extend(_check_shared_columns(mapping))
    every = set().union(*(p.columns for p in mapping.wide))
    for period in mapping.wide:
        for name in sorted(every - set(period.columns)):
            problems.append(
                Problem(
                    name, None, f"The period {period.as_of} has no column for {name}."
                )
            )
        for name in sorted(set(period.columns) - known):
            problems.append(Problem(name, None, f"{spec.label} has no field {name!r}."))
        for name in period.columns:
            fm = mapping.fields.get(name)
            if fm is not None and (fm.column or fm.constant is not None):
                problems.append(
                    Problem(
                        name,
                        fm.column,
                        f"{name} is mapped per period and also for the whole "
                        "table; keep one.",
                    )
                )
    return problems


def _check_shared_columns(mapping: Mapping) -> list[Problem]:
    """Each period of a wide table must read its own columns: two periods
    reading the same column would repeat one month's values as another's."""
    problems = []
    first_use: dict[str, WidePeriod] = {}
    for period in mapping.wide:
        for name, column in period.columns.items():
            earlier = first_use.setdefault(column, period)
            if earlier.as_of != period.as_of:
                problems.append(
                    Problem(
                        name,
                        column,
                        f"The periods {earlier.as_of} and {period.as_of} both "
                        f"read the column {column!r}; give each period its "
                        "own columns.",
                    )
                )
    return problems


def _check_field(
    f: Field,
    fm: FieldMapping | None,
    columns: Sequence[str],
    typed: dict[str, str],
    period: str,
) -> list[Problem]:
    where = f" (period {period})" if period else ""
    if fm is None or (fm.column is None and fm.constant is None):
        if f.required:
            return [
                Problem(
                    f.name, None, f"{f.label} is required; map a column to it{where}."
                )
            ]
        return _check_options(f, fm or FieldMapping(), None, typed)
    if fm.column is not None and fm.constant is not None:
        return [
            Problem(
                f.name,
                fm.column,
                f"{f.label}: choose a column or a constant, not both.",
            )
        ]
    if fm.constant is not None:
        try:
            parse_constant(f, fm)
        except ValueError as exc:
            return [Problem(f.name, None, f"{f.label}: {exc}")]
        return _check_options(f, fm, None, typed)
    assert fm.column is not None
    if fm.column not in columns:
        return [
            Problem(
                f.name,
                fm.column,
                f"The column {fm.column!r} mapped to {f.label} is not in the "
                f"data{where}.",
            )
        ]
    return _check_options(f, fm, fm.column, typed)


def _check_options(
    f: Field, fm: FieldMapping, column: str | None, typed: dict[str, str]
) -> list[Problem]:
    problems = []
    kind = typed.get(column or "")
    is_date = f.type in (FieldType.DATE, FieldType.TIMESTAMP)
    if is_date and column and kind not in ("date", "timestamp"):
        if not fm.date_format:
            problems.append(
                Problem(
                    f.name,
                    column,
                    f"{f.label}: choose the date format of column {column!r}.",
                )
            )
        elif not valid_date_format(fm.date_format):
            problems.append(
                Problem(
                    f.name,
                    column,
                    f"{f.label}: {fm.date_format!r} is not a date format such "
                    "as %d/%m/%Y.",
                )
            )
    if fm.decimal_separator not in (".", ","):
        problems.append(
            Problem(
                f.name, column, f"{f.label}: the decimal separator must be '.' or ','."
            )
        )
    if fm.thousands_separator not in ("", ".", ",", " ", "'"):
        problems.append(
            Problem(
                f.name,
                column,
                f"{f.label}: the thousands separator must be empty, '.', ',', "
                "' ' or \"'\".",
            )
        )
    if fm.thousands_separator and fm.thousands_separator == fm.decimal_separator:
        problems.append(
            Problem(
                f.name,
                column,
                f"{f.label}: the thousands and decimal separators must differ.",
            )
        )
    if fm.value_map and f.type != FieldType.CHOICE:
        problems.append(
            Problem(
                f.name, column, f"{f.label} is not a choice; it takes no value map."
            )
        )
    for source, target in fm.value_map.items():
        if f.type == FieldType.CHOICE and target not in f.choices:
            problems.append(
                Problem(
                    f.name,
                    column,
                    f"{f.label}: {source!r} is mapped to {target!r}, which is "
                    f"not one of {', '.join(f.choices)}.",
                )
            )
    lowered_true = {v.lower() for v in fm.true_values}
    both = sorted(lowered_true & {v.lower() for v in fm.false_values})
    if f.type == FieldType.BOOLEAN and both:
        problems.append(
            Problem(
                f.name,
                column,
                f"{f.label}: {', '.join(both)} cannot mean both yes and no.",
            )
        )
    if fm.transform not in TRANSFORMS:
        problems.append(
            Problem(f.name, column, f"{f.label}: unknown transform {fm.transform!r}.")
        )
    elif fm.transform != "days" and f.name != "dpd":
        problems.append(
            Problem(
                f.name,
                column,
                f"{f.label}: only days past due can be read as months past due.",
            )
        )
    return problems


def _check_reuse(mapping: Mapping, spec: Dataset) -> list[Problem]:
    """A column feeding two fields is a slip unless both are optional text
    (e.g. the same column as segment and product)."""
    problems = []
    for piece in pieces(mapping):
        users: dict[str, list[Field]] = {}
        for name, fm in piece.fields.items():
            if fm.column and name in {f.name for f in spec.fields}:
                users.setdefault(fm.column, []).append(spec.field(name))
        for column, fields in users.items():
            harmless = all(
                not f.required and f.type in (FieldType.STRING, FieldType.CHOICE)
                for f in fields
            )
            if len(fields) > 1 and not harmless:
                labels = " and ".join(f.label for f in fields)
                problems.append(
                    Problem(
                        fields[1].name,
                        column,
                        f"The column {column!r} is mapped to both {labels}.",
                    )
                )
    return problems


# Constants -----------------------------------------------------------------


def parse_constant(f: Field, fm: FieldMapping) -> object:
    """The Python value of a constant; ValueError if it does not fit."""
    text = (fm.constant or "").strip()
    if f.type == FieldType.DATE:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"the constant {text!r} is not a date (YYYY-MM-DD)."
            ) from None
    if f.type == FieldType.TIMESTAMP:
        raise ValueError("a timestamp cannot be a constant.")
    if f.type in (FieldType.DECIMAL, FieldType.INTEGER):
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"the constant {text!r} is not a number.") from None
        if f.type == FieldType.INTEGER:
            if number != number.to_integral_value():
                raise ValueError(f"the constant {text!r} is not a whole number.")
            return int(number)
        return number
    if f.type == FieldType.BOOLEAN:
        if text.lower() in {v.lower() for v in fm.true_values}:
            return True
        if text.lower() in {v.lower() for v in fm.false_values}:
            return False
        raise ValueError(f"the constant {text!r} is not a yes/no value.")
    if f.type == FieldType.CHOICE and text not in f.choices:
        raise ValueError(f"the constant {text!r} is not one of {', '.join(f.choices)}.")
    return text


# Parsing -------------------------------------------------------------------


def _text(column: Any) -> Any:
    if not column.type().is_string():
        column = column.cast(dt.string)
    return column.strip().nullif("")


def _decimal(text: Any, fm: FieldMapping) -> Any:
    if fm.thousands_separator:
        text = text.replace(fm.thousands_separator, "")
    if fm.decimal_separator == ",":
        text = text.replace(",", ".")
    return text.try_cast(DECIMAL)


def _parse(column: Any, f: Field, fm: FieldMapping) -> Any:
    """The value of `column` as field `f`; NULL where it cannot be read."""
    kind = column.type()
    text = _text(column)
    target = IBIS_TYPES[f.type]

    if f.type in (FieldType.DATE, FieldType.TIMESTAMP):
        if kind.is_date() or kind.is_timestamp():
            return column.cast(target)
        if fm.date_format is None:
            # Real dates staged as ISO text (see `for_typed_columns`).
            parsed = text.try_cast(dt.timestamp)
        else:
            parsed = try_strptime(text, fm.date_format)
        sane = parsed.year().between(FIRST_YEAR, LAST_YEAR)
        return ibis.ifelse(sane, parsed.cast(target), ibis.null(target))
    if f.type == FieldType.DECIMAL:
        return column.cast(DECIMAL) if kind.is_numeric() else _decimal(text, fm)
    if f.type == FieldType.INTEGER:
        number = column if kind.is_numeric() else _decimal(text, fm)
        whole = number == number.floor()
        value = ibis.ifelse(whole, number.cast(dt.int64), ibis.null(dt.int64))
        if fm.transform == "months_past_due":
            value = ibis.ifelse(
                value >= 1,
                value * 30,
                ibis.ifelse(value.notnull(), 0, ibis.null(dt.int64)),
            )
        return value
    if f.type == FieldType.BOOLEAN:
        if kind.is_boolean():
            return column
        lowered = text.lower()
        return ibis.cases(
            (lowered.isin([v.lower() for v in fm.true_values]), True),
            (lowered.isin([v.lower() for v in fm.false_values]), False),
            else_=ibis.null(dt.boolean),
        )
    if f.type == FieldType.CHOICE:
        mapped = (
            text.substitute(fm.value_map, else_=text.lower())
            if fm.value_map
            else text.lower()
        )
        return ibis.ifelse(mapped.isin(list(f.choices)), mapped, ibis.null(dt.string))
    return text


def parse_piece(raw: Any, piece: Piece, spec: Dataset, line: str | None = LINE) -> Any:
    """`raw` as one canonical piece, with the raw text of every mapped
    column kept as `__raw__<field>` and the source line as `__line`."""
    columns: dict[str, Any] = {
        LINE: raw[line].cast(dt.int64) if line else ibis.null(dt.int64),
        PIECE: ibis.literal(piece.index, dt.int64),
    }
    raws: dict[str, Any] = {}
    for f in spec.fields:
        fm = piece.fields.get(f.name)
        target = IBIS_TYPES[f.type]
        if fm is not None and fm.column is not None:
            columns[f.name] = _parse(raw[fm.column], f, fm).cast(target)
            raws[RAW + f.name] = _text(raw[fm.column])
        elif fm is not None and fm.constant is not None:
            columns[f.name] = ibis.literal(parse_constant(f, fm), target)
            raws[RAW + f.name] = ibis.null(dt.string)
        else:
            columns[f.name] = ibis.null(target)
            raws[RAW + f.name] = ibis.null(dt.string)
    return raw.select(**columns, **raws)


def parsed_table(raw: Any, mapping: Mapping, line: str | None = LINE) -> Any:
    """Every piece of `raw` parsed and stacked, with line and raw text."""
    parts = [parse_piece(raw, piece, mapping.spec, line) for piece in pieces(mapping)]
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


def canonical_table(raw: Any, mapping: Mapping) -> Any:
    """`raw` in the canonical names and types of the mapping's dataset.

    Values that cannot be read are NULL; run the import's validation to
    find them. Works on any Ibis table: an imported file in DuckDB or a
    SQL source.
    """
    line = LINE if LINE in raw.columns else None
    table = parsed_table(raw, mapping, line)
    return table.select(*(f.name for f in mapping.spec.fields))


def for_typed_columns(mapping: Mapping, typed: dict[str, str]) -> Mapping:
    """`mapping` with no date format for columns that hold real dates.

    A format chosen for a text column (say MM/DD/YYYY in a CSV) does not
    apply to a spreadsheet's date cells or a Parquet date column, which are
    staged as ISO text; those are read as ISO dates whatever the format.
    For a wide table a field's format is dropped when every period reads
    it from such a column.
    """
    dates = {c for c, kind in typed.items() if kind in ("date", "timestamp")}
    if not dates:
        return mapping
    fields = dict(mapping.fields)
    for name, fm in mapping.fields.items():
        used = [p.columns[name] for p in mapping.wide if name in p.columns]
        columns = used or ([fm.column] if fm.column else [])
        if fm.date_format and columns and all(c in dates for c in columns):
            fields[name] = replace(fm, date_format=None)
    return replace(mapping, fields=fields)


def describe_date_format(fmt: str | None) -> str:
    return human_date_format(fmt or "%Y-%m-%d")
