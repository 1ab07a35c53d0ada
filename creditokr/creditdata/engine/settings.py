"""KPI settings: what a user may choose, with defaults and validation.

Settings arrive from forms and JSON as strings or plain values;
`clean_settings` turns them into typed values or says clearly what is
wrong with which setting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

SettingKind = Literal["int", "choice", "bool", "decimal"]

TRUE_WORDS = frozenset({"true", "yes", "on", "1", "y"})
FALSE_WORDS = frozenset({"false", "no", "off", "0", "n"})


class SettingsError(ValueError):
    """A setting value that cannot be used, with the setting's name."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting
        self.message = message


@dataclass(frozen=True)
class Setting:
    """One choice a user makes about how a KPI is computed."""

    name: str
    label: str
    kind: SettingKind
    default: Any
    choices: tuple[tuple[Any, str], ...] = ()
    help: str = ""
    min: int | Decimal | None = None
    max: int | Decimal | None = None

    def clean(self, raw: Any) -> Any:
        """Convert a raw value to this setting's type, or raise."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return self.default
        if self.kind == "bool":
            return self._clean_bool(raw)
        if self.kind == "choice":
            return self._clean_choice(raw)
        value = self._clean_int(raw) if self.kind == "int" else self._clean_dec(raw)
        self._check_bounds(value)
        return value

    def choice_label(self, value: Any) -> str:
        return str(dict(self.choices).get(value, value))

    def _clean_bool(self, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise SettingsError(self.name, f"{raw!r} is not yes or no")

    def _clean_choice(self, raw: Any) -> Any:
        allowed = [value for value, _ in self.choices]
        for value in allowed:
            if raw == value or str(raw).strip() == str(value):
                return value
        listed = ", ".join(str(value) for value in allowed)
        raise SettingsError(self.name, f"{raw!r} is not one of: {listed}")

    def _clean_int(self, raw: Any) -> int:
        if isinstance(raw, bool):
            raise SettingsError(self.name, f"{raw!r} is not a whole number")
        if isinstance(raw, int):
            return raw
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise SettingsError(self.name, f"{raw!r} is not a whole number") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise SettingsError(self.name, f"{raw!r} is not a whole number")
        return int(number)

    def _clean_dec(self, raw: Any) -> Decimal:
        if isinstance(raw, bool):
            raise SettingsError(self.name, f"{raw!r} is not a number")
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise SettingsError(self.name, f"{raw!r} is not a number") from None
        if not number.is_finite():
            raise SettingsError(self.name, f"{raw!r} is not a number")
        return number

    def _check_bounds(self, value: int | Decimal) -> None:
        if self.min is not None and value < self.min:
            raise SettingsError(self.name, f"must be at least {self.min}")
        if self.max is not None and value > self.max:
            raise SettingsError(self.name, f"must be at most {self.max}")


def clean_settings(
    settings: Sequence[Setting], raw: Mapping[str, Any]
) -> dict[str, Any]:
    """Fill in defaults and convert every value; refuse unknown names."""
    known = {setting.name for setting in settings}
    unknown = sorted(set(raw) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise SettingsError(
            unknown[0], f"is not a setting of this KPI (settings: {allowed})"
        )
    return {setting.name: setting.clean(raw.get(setting.name)) for setting in settings}
