"""The checks behind `parse_template`, one field or one rule at a time.

`FieldReader` reads single fields off the YAML node tree and records a
problem, with its line, for each one that is missing or wrong.
`MeasureRules` then checks that a key result's kind, unit and numbers fit
together.
"""

import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from difflib import get_close_matches
from typing import TYPE_CHECKING

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from creditokr.okrs import services
from creditokr.okrs.models import VALUE_DECIMAL_PLACES, VALUE_MAX_DIGITS, Unit
from creditokr.okrs.progress import Kind, TargetMode, format_decimal

if TYPE_CHECKING:
    # Only for annotations: template_format imports this module.
    from creditokr.okrs.template_format import TemplateKeyResult

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_DECIMAL_PLACES = VALUE_DECIMAL_PLACES
MAX_NUMBER = Decimal(10) ** (VALUE_MAX_DIGITS - VALUE_DECIMAL_PLACES)

TEXT_TAG = "tag:yaml.org,2002:str"
NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")

NUMERIC_FIELDS = (
    "unit",
    "unit_label",
    "currency_code",
    "start_value",
    "target_value",
    "target_mode",
    "target_change",
)


class FieldReader:
    """Reads fields off YAML nodes, collecting problems with their lines.

    Each field reader returns None when the field is absent or wrong, and
    records a problem when it is wrong.
    """

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self.problems: list[str] = []
        self.lines_of_keys: dict[str, dict[str, int]] = {"objective": {}, "kr": {}}

    def problem(self, node: Node | None, reason: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(f"{self.file_name}, line {line}: {reason}")

    def fields(
        self, node: Node, what: str, names: tuple[Sequence[str], Sequence[str]]
    ) -> dict[str, Node] | None:
        required, optional = names
        if not isinstance(node, MappingNode):
            self.problem(
                node,
                f"{what} must be a set of 'name: value' fields "
                f"({_names(required)}), not {_describe(node)}",
            )
            return None

        found: dict[str, Node] = {}
        for name_node, value_node in node.value:
            name = name_node.value if name_node.tag == TEXT_TAG else None
            if name in found:
                self.problem(name_node, f"'{name}' appears twice in {what}")
            elif name not in (*required, *optional):
                self.unknown_field(name_node, what, (*required, *optional))
            else:
                found[name] = value_node
        for name in required:
            if name not in found:
                self.problem(node, f"{what} is missing '{name}'")
        return found

    def unknown_field(self, node: Node, what: str, names: Sequence[str]) -> None:
        close = get_close_matches(str(node.value), names, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        self.problem(
            node,
            f"unknown field '{node.value}' in {what}; {hint}"
            f"the fields are {', '.join(names)}",
        )

    def text(
        self, fields: dict[str, Node], name: str, max_length: int | None = None
    ) -> str | None:
        node = fields.get(name)
        if node is None:
            return None
        if not isinstance(node, ScalarNode) or node.tag != TEXT_TAG:
            self.problem(node, f"{name} must be text, not {_describe(node)}")
            return None

        value = " ".join(node.value.split())
        if not value:
            self.problem(node, f"{name} is empty")
            return None
        if max_length is not None and len(value) > max_length:
            self.problem(
                node,
                f"{name} is {len(value)} characters long; at most {max_length} fit",
            )
            return None
        return value

    def choice(
        self, fields: dict[str, Node], name: str, options: Sequence[str]
    ) -> str | None:
        value = self.text(fields, name)
        if value is None or value in options:
            return value
        self.problem(
            fields[name], f"{name} '{value}' is not one of {', '.join(options)}"
        )
        return None

    def slug(self, fields: dict[str, Node], name: str) -> str | None:
        value = self.text(fields, name, max_length=100)
        if value is None or SLUG.fullmatch(value):
            return value
        self.problem(
            fields[name],
            f"{name} '{value}' may only hold lower-case letters, digits and "
            "single hyphens, like 'reduce-delinquency'",
        )
        return None

    def unique_key(self, fields: dict[str, Node], namespace: str) -> str | None:
        key = self.slug(fields, "key")
        if key is None:
            return None

        seen = self.lines_of_keys[namespace]
        line = fields["key"].start_mark.line + 1
        if key in seen:
            self.problem(
                fields["key"],
                f"key '{key}' is already used on line {seen[key]}; "
                "each key must be unique in the template",
            )
            return None
        seen[key] = line
        return key

    def number(self, fields: dict[str, Node], name: str) -> Decimal | None:
        node = fields.get(name)
        if node is None:
            return None
        if not isinstance(node, ScalarNode) or node.tag not in NUMBER_TAGS:
            self.problem(node, f"{name} must be a number, not {_describe(node)}")
            return None

        try:
            value = Decimal(node.value.replace("_", ""))
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            self.problem(node, f"{name} '{node.value}' is not a finite number")
            return None
        if abs(value) >= MAX_NUMBER or _decimal_places(value) > MAX_DECIMAL_PLACES:
            self.problem(
                node,
                f"{name} {node.value} does not fit: numbers may have up to 18 "
                f"digits before the point and {MAX_DECIMAL_PLACES} after it",
            )
            return None
        return value

    def version(self, fields: dict[str, Node]) -> int | None:
        value = self.number(fields, "version")
        if value is None:
            return None
        if value < 1 or value != value.to_integral_value():
            self.problem(
                fields["version"], "version must be a whole number of 1 or more"
            )
            return None
        return int(value)

    def items[T](
        self, fields: dict[str, Node], name: str, read: Callable[[Node], T | None]
    ) -> list[T | None]:
        node = fields.get(name)
        if node is None:
            return []
        if not isinstance(node, SequenceNode) or not node.value:
            self.problem(node, f"{name} must be a list of one or more items")
            return []
        return [read(item) for item in node.value]


def _describe(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a set of fields"
    if node.tag == TEXT_TAG:
        return f"the text '{node.value}'"
    if node.tag.endswith(":null"):
        return "nothing"
    return f"'{node.value}'"


def _names(names: Iterable[str]) -> str:
    return ", ".join(names)


def _decimal_places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


class MeasureRules:
    """The rules that tie a key result's kind, unit and numbers together."""

    def __init__(
        self, reader: FieldReader, node: Node, fields: dict[str, Node], what: str
    ) -> None:
        self.reader = reader
        self.node = node
        self.fields = fields
        self.what = what

    def problem(self, name: str | None, reason: str) -> None:
        node = self.fields.get(name, self.node) if name else self.node
        self.reader.problem(node, reason)

    def check(self, kr: "TemplateKeyResult") -> None:
        if kr.kind == Kind.MILESTONE:
            for name in NUMERIC_FIELDS:
                if name in self.fields:
                    self.problem(
                        name, f"a milestone is done or not done; it takes no {name}"
                    )
            return

        if kr.unit is None:
            self.problem(None, f"{self.what} is missing 'unit'")
            return
        self.check_unit(kr)
        if kr.target_mode == TargetMode.ABSOLUTE:
            self.check_absolute(kr)
        else:
            self.check_relative(kr)
        self.check_values_fit_unit(kr)

    def check_unit(self, kr: "TemplateKeyResult") -> None:
        code = kr.currency_code
        if kr.unit == Unit.CURRENCY and not services.CURRENCY_CODE.fullmatch(code):
            self.problem(
                "currency_code" if code else None,
                "a currency unit needs a currency_code of three capital letters, "
                "like GBP",
            )
        if kr.currency_code and kr.unit != Unit.CURRENCY:
            self.problem("currency_code", "currency_code only goes with unit currency")
        if kr.unit_label and kr.unit != Unit.TEXT:
            self.problem("unit_label", "unit_label only goes with unit text")
        if kr.weight < 0:
            self.problem("weight", "weight cannot be negative")

    def check_absolute(self, kr: "TemplateKeyResult") -> None:
        if kr.target_change is not None:
            self.problem(
                "target_change",
                "target_change only goes with target_mode relative_percent or "
                "percentage_points",
            )
        if kr.target_value is None:
            self.problem(None, f"{self.what} is missing 'target_value'")
            return

        start, target = kr.start_value, kr.target_value
        if start is None:
            return
        if kr.kind == Kind.INCREASE and target <= start:
            self.problem(
                "target_value",
                f"an increase needs a target above its start value "
                f"({format_decimal(start)}), not {format_decimal(target)}",
            )
        if kr.kind == Kind.DECREASE and target >= start:
            self.problem(
                "target_value",
                f"a decrease needs a target below its start value "
                f"({format_decimal(start)}), not {format_decimal(target)}",
            )

    def check_relative(self, kr: "TemplateKeyResult") -> None:
        mode = kr.target_mode.value
        if kr.target_value is not None:
            self.problem(
                "target_value",
                f"with target_mode {mode} the target follows from the baseline "
                "and target_change; leave target_value out",
            )
        if kr.unit != Unit.PERCENT and kr.target_mode == TargetMode.PERCENTAGE_POINTS:
            self.problem("target_mode", "percentage_points only go with unit percent")
        change = kr.target_change
        if change is None:
            self.problem(None, f"{self.what} is missing 'target_change'")
            return

        if kr.kind == Kind.INCREASE and change <= 0:
            self.problem("target_change", "an increase needs a target_change above 0")
        if kr.kind == Kind.DECREASE and change >= 0:
            self.problem("target_change", "a decrease needs a target_change below 0")
        if kr.target_mode == TargetMode.RELATIVE_PERCENT and change < -100:
            self.problem("target_change", "a value cannot fall by more than 100%")

    def check_values_fit_unit(self, kr: "TemplateKeyResult") -> None:
        assert kr.unit is not None
        for name in ("start_value", "target_value"):
            value = getattr(kr, name)
            problem = None if value is None else services.unit_problem(kr.unit, value)
            if problem:
                self.problem(
                    name, f"{name}: {problem[0].lower()}{problem[1:].rstrip('.')}"
                )
