"""How messages name things, so that every message names them alike."""

from datetime import date

from django.utils.formats import date_format


def quoted(title: str) -> str:
    """A title in quotes for a message, without a full stop of its own.

    Titles are often typed as sentences, and a message that quotes one goes
    on after it: “Cut losses.”: 2.6 reads badly, “Cut losses”: 2.6 does not.
    """
    if title.endswith(".") and not title.endswith(".."):
        title = title[:-1]
    return f"“{title}”"


def format_day(day: date) -> str:
    """A date as messages and pages write it: 15 Nov 2026."""
    return date_format(day, "j M Y")
