"""Small parsing helpers shared by the readers, the mapping and the checks."""

import re
from datetime import datetime
from typing import Any

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
    """Whether `fmt` is a strptime format we can explain and DuckDB reads."""
    directives = _DIRECTIVE.findall(fmt)
    return bool(directives) and all(d in _DIRECTIVES for d in directives)


def human_date_format(fmt: str) -> str:
    """A strptime format as people write it: %d/%m/%Y -> DD/MM/YYYY."""
    return _DIRECTIVE.sub(lambda m: _DIRECTIVES.get(m.group(0), m.group(0)), fmt)
