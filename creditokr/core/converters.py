"""URL parts for database ids.

Django's `int` converter accepts any length of digits, and an id beyond a
64-bit integer makes the database driver fail. This one only matches ids
the database can hold, so anything else is an ordinary 404.
"""

from creditokr.okrs.access import MAX_ID


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValueError(f"{value} is not an id")
        return number

    def to_url(self, value: int) -> str:
        return str(value)
