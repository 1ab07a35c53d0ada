"""Small parsing helpers shared by the readers, the mapping and the checks."""

import functools
import re
from datetime import datetime
from typing import Any

import duckdb
import ibis

_DIRECTIVES = {
    "%Y": "YYYY",
    "%y": "YY",
    "%m": "MM",
    "%d": "DD",
    "%b": "Mon",
    "%B": "Month",
    "%H": "hh",
    "%I": "hh",
    "%M": "mm",
    "%S": "ss",
    "%f": "ffffff",
    "%p": "AM/PM",
    "%z": "+hhmm",
    "%j": "day-of-year",
    "%%": "%",
}
_DIRECTIVE = re.compile(r"%.")


@ibis.udf.scalar.builtin(name="try_strptime")  # type: ignore[untyped-decorator]
def _try_strptime(value: str, fmt: str) -> datetime:
    """DuckDB's try_strptime: NULL where the text does not fit the format.
    Ibis only reads the signature; the body never runs."""
    raise NotImplementedError


def try_strptime(text: Any, fmt: str) -> Any:
    """Parse `text` with a strptime `fmt` in DuckDB; NULL when it fails."""
    return _try_strptime(text, fmt)


def valid_date_format(fmt: str) -> bool:
    """Whether `fmt` is a strptime format we can explain and DuckDB reads.

    Every % must start a directive we know (a lone % at the end is not
    one), and DuckDB itself must accept the format.
    """
    if len(fmt) > 100 or not _DIRECTIVE.findall(fmt):
        return False
    rest = _DIRECTIVE.sub("", fmt)
    if "%" in rest:
        return False
    known = all(d in _DIRECTIVES for d in _DIRECTIVE.findall(fmt))
    return known and _duckdb_reads(fmt)


@functools.lru_cache(maxsize=256)
def _duckdb_reads(fmt: str) -> bool:
    con = duckdb.connect(":memory:")
    try:
        con.execute("SELECT try_strptime('2000-01-01', ?)", [fmt])
    except duckdb.Error:
        return False
    finally:
        con.close()
    return True


def human_date_format(fmt: str) -> str:
    """A strptime format as people write it: %d/%m/%Y -> DD/MM/YYYY."""
    return _DIRECTIVE.sub(lambda m: _DIRECTIVES.get(m.group(0), m.group(0)), fmt)
