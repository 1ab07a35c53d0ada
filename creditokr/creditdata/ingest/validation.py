"""Find every bad value in a parsed table, with queries rather than loops.

Each check is one query that selects the offending rows, counts them all
and brings back only the first ones. The same checks run on an imported
file in DuckDB and, pushed down, on a SQL source; rows are named by their
line in a file or by their key in a database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import ibis

from creditokr.creditdata.canonical import Dataset, Field, FieldType
from creditokr.creditdata.ingest.errors import RowError
from creditokr.creditdata.ingest.mapping import (
    DECIMAL,
    FIRST_YEAR,
    LAST_YEAR,
    LINE,
    PIECE,
    RAW,
    FieldMapping,
    Mapping,
    pieces,
)
from creditokr.creditdata.ingest.parsing import human_date_format

TOTAL = "__total"
# The canonical decimal's digits before the decimal point.
MAX_WHOLE_DIGITS = DECIMAL.precision - DECIMAL.scale


@dataclass(frozen=True)
class Located:
    """How to name a row: by file line, or by key values in a database."""

    line_word: str | None = "line"
    key_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """An impossible combination of values in one row."""

    field: str
    other: str | None
    condition: Callable[[Any], Any]
    message: str


RULES: dict[str, tuple[Rule, ...]] = {
    "receivables": (
        Rule(
            "due_date",
            "invoice_date",
            lambda t: t.due_date < t.invoice_date,
            "the due date {value} is before the invoice date {other}",
        ),
        Rule(
            "settled_date",
            "invoice_date",
            lambda t: t.settled_date < t.invoice_date,
            "the settled date {value} is before the invoice date {other}",
        ),
    ),
    "recoveries": (
        Rule("amount", None, lambda t: t.amount < 0, "the amount {value} is negative"),
        Rule("fee", None, lambda t: t.fee < 0, "the agency fee {value} is negative"),
    ),
    "account_snapshots": (
        Rule(
            "origination_date",
            "as_of",
            lambda t: t.origination_date > t.as_of,
            "the origination date {value} is after the snapshot date {other}",
        ),
    ),
}


@dataclass(frozen=True)
class _Check:
    field: str
    # Given the table with `extra` columns added, the rows to report.
    condition: Callable[[Any], Any]
    describe: Callable[[dict[str, Any]], str]
    extra: dict[str, Any]


class Validator:
    """Runs every check of a mapping over a parsed table."""

    def __init__(
        self, table: Any, mapping: Mapping, located: Located, max_errors: int
    ) -> None:
        self.table = table
        self.mapping = mapping
        self.spec: Dataset = mapping.spec
        self.located = located
        self.max_errors = max_errors
        self.columns = {
            (piece.index, name): fm.column
            for piece in pieces(mapping)
            for name, fm in piece.fields.items()
            if fm.column
        }
        self.options = {
            (piece.index, name): fm
            for piece in pieces(mapping)
            for name, fm in piece.fields.items()
        }

    def run(self) -> tuple[int, list[RowError]]:
        total = 0
        found: list[tuple[tuple[int, int, int], RowError]] = []
        for order, check in enumerate(self._checks()):
            count, rows = self._fetch(check)
            total += count
            for row in rows:
                error = self._error(check, row)
                rank = (row[LINE] or 0, row[PIECE], order)
                found.append((rank, error))
        found.sort(key=lambda item: item[0])
        return total, [error for _, error in found[: self.max_errors]]

    # Building checks -------------------------------------------------------

    def _checks(self) -> list[_Check]:
        checks: list[_Check] = []
        mapped = {name for (_, name) in self.columns}
        for f in self.spec.fields:
            if f.name not in mapped:
                continue
            if f.type != FieldType.STRING:
                checks.append(self._unreadable_check(f))
            if f.required:
                checks.append(self._empty_check(f))
        checks.extend(self._duplicates())
        for rule in RULES.get(self.spec.key, ()):
            checks.append(self._rule(rule))
        return checks

    def _unreadable_check(self, f: Field) -> _Check:
        """Text was there but could not be read as the field's type."""

        def condition(m: Any) -> Any:
            return m[RAW + f.name].notnull() & m[f.name].isnull()

        return _Check(f.name, condition, self._unreadable(f), {})

    def _empty_check(self, f: Field) -> _Check:
        def condition(m: Any) -> Any:
            return m[RAW + f.name].isnull() & m[f.name].isnull()

        def describe(row: dict[str, Any]) -> str:
            return f"{f.label} is empty but is required"

        return _Check(f.name, condition, describe, {})

    def _unreadable(self, f: Field) -> Callable[[dict[str, Any]], str]:
        def describe(row: dict[str, Any]) -> str:
            value = row[RAW + f.name]
            fm = self.options.get((row[PIECE], f.name), FieldMapping())
            return f"{value!r} {why_unreadable(f, fm, value)}"

        return describe

    def _duplicates(self) -> list[_Check]:
        key = list(self.spec.unique_key)
        if not key:
            return []
        t = self.table
        window = ibis.window(group_by=[t[k] for k in key])
        extra = {
            "__count": t[key[0]].count().over(window),
            "__first": t[LINE].min().over(window),
            "__last": t[LINE].max().over(window),
        }
        labels = " and ".join(self.spec.field(k).label.lower() for k in key)

        def describe(row: dict[str, Any]) -> str:
            values = ", ".join(repr(_plain(row[k])) for k in key)
            where = ""
            if self.located.line_word and row["__first"] is not None:
                word = self.located.line_word + "s"
                where = f" ({word} {row['__first']} to {row['__last']})"
                if row["__count"] == 2:
                    where = f" ({word} {row['__first']} and {row['__last']})"
            return (
                f"the {labels} {values} appears {row['__count']} times{where}; "
                "each must be unique"
            )

        def condition(m: Any) -> Any:
            present = ibis.and_(*(m[k].notnull() for k in key))
            return present & (m["__count"] > 1)

        return [_Check(key[0], condition, describe, extra)]

    def _rule(self, rule: Rule) -> _Check:
        def shown(row: dict[str, Any], name: str | None) -> str:
            if name is None:
                return ""
            raw = row.get(RAW + name)
            return repr(raw if raw is not None else _plain(row.get(name)))

        def describe(row: dict[str, Any]) -> str:
            return rule.message.format(
                value=shown(row, rule.field), other=shown(row, rule.other)
            )

        return _Check(
            rule.field, lambda m: rule.condition(m).fill_null(False), describe, {}
        )

    # Running checks --------------------------------------------------------

    def _fetch(self, check: _Check) -> tuple[int, list[dict[str, Any]]]:
        t = self.table
        keep = [LINE, PIECE, *self.spec.unique_key, *self._identity()]
        keep += [c for c in t.columns if c.startswith(RAW)]
        keep += [f.name for f in self.spec.fields]
        names = list(dict.fromkeys(keep))
        mutated = t.mutate(**check.extra) if check.extra else t
        found = mutated.filter(check.condition(mutated))
        query = (
            found.select(*names, *check.extra, **{TOTAL: found[PIECE].count().over()})
            .order_by([LINE, PIECE])
            .limit(self.max_errors)
        )
        frame = query.to_pyarrow().to_pylist()
        if not frame:
            return 0, []
        return int(frame[0][TOTAL]), frame

    def _identity(self) -> tuple[str, ...]:
        return self.located.key_fields

    def _error(self, check: _Check, row: dict[str, Any]) -> RowError:
        column = self.columns.get((row[PIECE], check.field))
        raw = row.get(RAW + check.field)
        line = row[LINE]
        where = []
        key: dict[str, str] | None = None
        if self.located.line_word and line is not None:
            where.append(f"{self.located.line_word.capitalize()} {line}")
        elif self.located.key_fields:
            key = {
                k: str(_plain(row.get(RAW + k) or row.get(k)))
                for k in self.located.key_fields
            }
            where.append("Row " + ", ".join(f"{k}={v!r}" for k, v in key.items()))
        if column:
            where.append(f"column {column}")
        prefix = ", ".join(where)
        message = check.describe(row)
        return RowError(
            line=line,
            column=column,
            field=check.field,
            value=raw if raw is not None else _text_or_none(row.get(check.field)),
            message=f"{prefix}: {message}."
            if prefix
            else message[0].upper() + message[1:] + ".",
            key=key,
        )


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(_plain(value))


def why_unreadable(f: Field, fm: FieldMapping, value: str | None = None) -> str:
    """Why the text `value` could not be read as field `f`, to follow the
    quoted value in a message."""
    if f.type in (FieldType.DATE, FieldType.TIMESTAMP):
        if value is not None and _year_out_of_range(value, fm.date_format):
            return (
                f"is out of the supported range of dates (years {FIRST_YEAR} "
                f"to {LAST_YEAR})"
            )
        fmt = fm.date_format or "%Y-%m-%d"
        kind = "date" if f.type == FieldType.DATE else "date and time"
        return f"is not a {kind} in the format {human_date_format(fmt)}"
    if f.type in (FieldType.DECIMAL, FieldType.INTEGER):
        if value is not None and _too_large(value, fm):
            what = "an amount" if f.type == FieldType.DECIMAL else "this field"
            return (
                f"is too large for {what} (at most {MAX_WHOLE_DIGITS} digits "
                "before the decimal point)"
            )
        what = "a whole number" if f.type == FieldType.INTEGER else "a number"
        separators = f"decimal separator {fm.decimal_separator!r}"
        if fm.thousands_separator:
            separators += f", thousands separator {fm.thousands_separator!r}"
        return f"is not {what} ({separators})"
    if f.type == FieldType.BOOLEAN:
        return (
            f"is not a yes/no value; use one of {', '.join(fm.true_values)} "
            f"for yes or {', '.join(fm.false_values)} for no"
        )
    if f.type == FieldType.CHOICE:
        return f"is not one of {', '.join(f.choices)}; map it to one of them"
    return "cannot be read"


_ISO_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f")


def _year_out_of_range(text: str, fmt: str | None) -> bool:
    """Whether `text` is a real date in `fmt` (ISO when None) whose year we
    refuse. Years are matched as digits, so 0001 and 99999 both count."""
    text = text.strip()
    formats = (fmt,) if fmt else _ISO_FORMATS
    for candidate in formats:
        match = re.fullmatch(_format_pattern(candidate), text)
        if match is not None and match.groupdict().get("year"):
            year = int(match.group("year"))
            return not FIRST_YEAR <= year <= LAST_YEAR
    return False


def _format_pattern(fmt: str) -> str:
    """A regular expression loosely matching text in the strptime `fmt`,
    with the four-digit-year part captured as `year`."""
    parts = []
    seen_year = False
    for part in re.split(r"(%.)", fmt):
        if part == "%Y" and not seen_year:
            parts.append(r"(?P<year>[0-9]{1,6})")
            seen_year = True
        elif part == "%%":
            parts.append("%")
        elif len(part) == 2 and part.startswith("%"):
            parts.append(r".+?")
        else:
            parts.append(re.escape(part))
    return "".join(parts)


def _too_large(text: str, fm: FieldMapping) -> bool:
    """Whether `text` is a number with too many digits before the point."""
    text = text.strip()
    if fm.thousands_separator:
        text = text.replace(fm.thousands_separator, "")
    if fm.decimal_separator == ",":
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return False
    return number.is_finite() and abs(number) >= Decimal(10) ** MAX_WHOLE_DIGITS


def validate(
    table: Any,
    mapping: Mapping,
    *,
    max_errors: int = 200,
    located: Located | None = None,
) -> tuple[int, list[RowError]]:
    """Count every error in a parsed table and return the first ones."""
    return Validator(table, mapping, located or Located(), max_errors).run()


def key_fields(spec: Dataset) -> tuple[str, ...]:
    """The fields that best name a row of `spec` when there is no line."""
    if spec.unique_key:
        return spec.unique_key
    return (spec.fields[0].name,)


def merge(
    first: Sequence[RowError], second: Sequence[RowError], limit: int
) -> list[RowError]:
    """Two lists of errors in line order, cut to `limit`."""
    both = sorted([*first, *second], key=lambda e: (e.line or 0,))
    return both[:limit]
