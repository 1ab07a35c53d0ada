"""The comment form: Markdown text, and a one-time token for new comments."""

from typing import Any

from django import forms

from creditokr.collab.services import MAX_LENGTH
from creditokr.okrs.fields import carry_submission_token, submission_token

HELP = (
    "Markdown: **bold**, *italic*, `code`, lists, > quotes and links. "
    "Write @username to mention someone who can see this objective."
)


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=HELP,
        error_messages={"required": "Write something first."},
    )

    def __init__(self, *args: Any, new: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if new:
            carry_submission_token(self)

    @property
    def token(self) -> str:
        return submission_token(self)
