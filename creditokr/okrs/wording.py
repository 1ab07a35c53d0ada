"""How messages name things, so that every message names them alike."""


def quoted(title: str) -> str:
    """A title in quotes for a message, without a full stop of its own.

    Titles are often typed as sentences, and a message that quotes one goes
    on after it: “Cut losses.”: 2.6 reads badly, “Cut losses”: 2.6 does not.
    """
    if title.endswith(".") and not title.endswith(".."):
        title = title[:-1]
    return f"“{title}”"
