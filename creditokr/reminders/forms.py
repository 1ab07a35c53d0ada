from typing import Any

from django import forms

from creditokr.reminders.delivery import Wanted
from creditokr.reminders.preferences import Choice


class PreferencesForm(forms.Form):
    """On/off, email and chat for each kind of message."""

    def __init__(self, choices: list[Choice], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        for choice in choices:
            kind = choice.kind
            self.fields[f"{kind}-enabled"] = forms.BooleanField(
                label=kind.label, required=False, initial=choice.wanted.enabled
            )
            self.fields[f"{kind}-email"] = forms.BooleanField(
                label="Email", required=False, initial=choice.wanted.email
            )
            self.fields[f"{kind}-chat"] = forms.BooleanField(
                label="Chat", required=False, initial=choice.wanted.chat
            )

    def rows(self) -> list[tuple[Choice, list[forms.BoundField]]]:
        return [
            (c, [self[f"{c.kind}-{part}"] for part in ("enabled", "email", "chat")])
            for c in self.choices
        ]

    def wanted(self) -> dict[str, Wanted]:
        data = self.cleaned_data
        return {
            choice.kind.value: Wanted(
                bool(data[f"{choice.kind}-enabled"]),
                bool(data[f"{choice.kind}-email"]),
                bool(data[f"{choice.kind}-chat"]),
            )
            for choice in self.choices
        }
