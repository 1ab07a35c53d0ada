"""OKR templates: objectives and key results written down in a YAML file.

A template is read in two steps. `parse_template` checks every field of the
file and returns frozen dataclasses, or raises `TemplateError` naming the
file, the line and the reason for each problem. `load_template` then turns
the parsed template into objectives and key results in one cycle, all in
one transaction, after checking everything it is about to write.

Loading is idempotent: each item carries a stable key, stored as the
`template_key` of what it creates, and items already present in the cycle
are skipped. The shipped templates live in the `library` folder next to
this module; `credit-management.yaml` shows the format.
"""

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from difflib import get_close_matches
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.formats import date_format
from django.utils.text import slugify
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from creditokr.accounts.models import Organisation, Team, User
from creditokr.cycles.fiscal import FiscalCalendar
from creditokr.cycles.models import Cycle
from creditokr.okrs import services
from creditokr.okrs.models import KeyResult, Objective, Unit
from creditokr.okrs.progress import Kind, Status, TargetMode, format_decimal

logger = logging.getLogger(__name__)

LIBRARY = Path(__file__).resolve().parent / "library"
QUARTERS = ("Q1", "Q2", "Q3", "Q4")
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
MAX_DECIMAL_PLACES = 6
MAX_NUMBER = Decimal(10) ** 18

TEXT_TAG = "tag:yaml.org,2002:str"
NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")

# (required, optional) field names of each part of a template, in the order
# they are listed in messages.
TEMPLATE_FIELDS = (("key", "title", "version", "objectives"), ("description", "source"))
OBJECTIVE_FIELDS = (
    ("key", "title", "team"),
    ("description", "starting_status", "headline", "key_results"),
)
KEY_RESULT_FIELDS = (
    ("key", "title", "kind"),
    (
        "definition",
        "unit",
        "unit_label",
        "currency_code",
        "start_value",
        "target_value",
        "target_mode",
        "target_change",
        "due",
        "weight",
    ),
)
NUMERIC_FIELDS = (
    "unit",
    "unit_label",
    "currency_code",
    "start_value",
    "target_value",
    "target_mode",
    "target_change",
)


class TemplateError(Exception):
    """A template that cannot be read or loaded.

    The message has one line per problem, each naming the file, the line in
    it and the reason, so it can be shown to a person as it is.
    """

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


# The parsed template


@dataclass(frozen=True)
class TemplateKeyResult:
    key: str
    title: str
    kind: Kind
    line: int
    is_headline: bool = False
    definition: str = ""
    unit: Unit | None = None
    unit_label: str = ""
    currency_code: str = ""
    start_value: Decimal | None = None
    target_value: Decimal | None = None
    target_mode: TargetMode = TargetMode.ABSOLUTE
    target_change: Decimal | None = None
    due_quarter: int | None = None
    weight: Decimal = Decimal(1)

    @property
    def takes_baseline(self) -> bool:
        return self.kind in (Kind.INCREASE, Kind.DECREASE)


@dataclass(frozen=True)
class TemplateObjective:
    key: str
    title: str
    team: str
    line: int
    description: str = ""
    starting_status: Status | None = None
    headline: TemplateKeyResult | None = None
    key_results: tuple[TemplateKeyResult, ...] = ()

    @property
    def all_key_results(self) -> tuple[TemplateKeyResult, ...]:
        """The headline key result first, then the others in file order."""
        headline = (self.headline,) if self.headline else ()
        return headline + self.key_results


@dataclass(frozen=True)
class OkrTemplate:
    key: str
    title: str
    version: int
    path: Path
    objectives: tuple[TemplateObjective, ...]
    description: str = ""
    source: str = ""

    @property
    def key_results(self) -> tuple[TemplateKeyResult, ...]:
        return tuple(kr for o in self.objectives for kr in o.all_key_results)


# Finding templates


def available_templates() -> list[tuple[str, str]]:
    """(key, title) of each template in the library, by key."""
    templates = [parse_template(path) for path in LIBRARY.glob("*.yaml")]
    return sorted((template.key, template.title) for template in templates)


def template_path(name: str) -> Path:
    """The library file of the template called `name`."""
    path = LIBRARY / f"{name}.yaml"
    if SLUG.fullmatch(name) and path.is_file():
        return path

    available = ", ".join(key for key, _ in available_templates()) or "none"
    raise TemplateError(
        f"There is no template called '{name}'. Available templates: {available}."
    )


def _template_file(name_or_path: str | Path) -> Path:
    if isinstance(name_or_path, Path):
        return name_or_path
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        return Path(name_or_path)
    return template_path(name_or_path)


# Parsing


def parse_template(path: Path) -> OkrTemplate:
    """Read and check a template file; raise TemplateError on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError(f"{path}: there is no such file.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateError(f"{path}: cannot be read ({error}).") from None

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        raise TemplateError(_syntax_problem(path.name, error)) from None
    except yaml.YAMLError as error:
        raise TemplateError(f"{path.name}: not readable as YAML ({error}).") from None

    reader = _Reader(path.name)
    template = reader.template(root, path)
    if reader.problems or template is None:
        raise TemplateError(reader.problems)
    return template


def _syntax_problem(file_name: str, error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark else 1
    reason = error.problem or error.context or "the text is not valid YAML"
    return f"{file_name}, line {line}: YAML syntax error: {reason}"


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


class _Reader:
    """Walks the YAML node tree, collecting problems with their lines."""

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self.problems: list[str] = []
        self.lines_of_keys: dict[str, dict[str, int]] = {"objective": {}, "kr": {}}

    def problem(self, node: Node | None, reason: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(f"{self.file_name}, line {line}: {reason}")

    # Parts of a template

    def template(self, root: Node | None, path: Path) -> OkrTemplate | None:
        if root is None:
            self.problem(
                None,
                "the file is empty; a template needs " + _names(TEMPLATE_FIELDS[0]),
            )
            return None
        fields = self.fields(root, "the template", TEMPLATE_FIELDS)
        if fields is None:
            return None

        before = len(self.problems)
        key = self.slug(fields, "key")
        title = self.text(fields, "title", max_length=200)
        version = self.version(fields)
        description = self.text(fields, "description") or ""
        source = self.text(fields, "source") or ""
        objectives = self.items(fields, "objectives", self.objective)
        if len(self.problems) > before or not (key and title and version):
            return None
        return OkrTemplate(
            key=key,
            title=title,
            version=version,
            path=path,
            objectives=tuple(o for o in objectives if o is not None),
            description=description,
            source=source,
        )

    def objective(self, node: Node) -> TemplateObjective | None:
        fields = self.fields(node, "the objective", OBJECTIVE_FIELDS)
        if fields is None:
            return None

        before = len(self.problems)
        key = self.unique_key(fields, "objective")
        title = self.text(fields, "title", max_length=300)
        team = self.text(fields, "team", max_length=100)
        description = self.text(fields, "description") or ""
        status = self.choice(fields, "starting_status", [s.value for s in Status])
        headline = None
        if "headline" in fields:
            headline = self.key_result(fields["headline"], headline=True)
        key_results = self.items(fields, "key_results", self.key_result)
        if "headline" not in fields and "key_results" not in fields:
            self.problem(node, "the objective has no key_results and no headline")
        if len(self.problems) > before or not (key and title and team):
            return None
        return TemplateObjective(
            key=key,
            title=title,
            team=team,
            line=node.start_mark.line + 1,
            description=description,
            starting_status=Status(status) if status else None,
            headline=headline,
            key_results=tuple(kr for kr in key_results if kr is not None),
        )

    def key_result(
        self, node: Node, headline: bool = False
    ) -> TemplateKeyResult | None:
        what = "the headline key result" if headline else "the key result"
        fields = self.fields(node, what, KEY_RESULT_FIELDS)
        if fields is None:
            return None

        before = len(self.problems)
        key = self.unique_key(fields, "kr")
        title = self.text(fields, "title", max_length=300)
        kind = self.choice(fields, "kind", [k.value for k in Kind])
        unit = self.choice(fields, "unit", [u.value for u in Unit])
        mode = self.choice(fields, "target_mode", [m.value for m in TargetMode])
        due = self.choice(fields, "due", QUARTERS)
        weight = self.number(fields, "weight")
        key_result = TemplateKeyResult(
            key=key or "",
            title=title or "",
            kind=Kind(kind or Kind.MILESTONE),
            line=node.start_mark.line + 1,
            is_headline=headline,
            definition=self.text(fields, "definition") or "",
            unit=Unit(unit) if unit else None,
            unit_label=self.text(fields, "unit_label", max_length=40) or "",
            currency_code=self.text(fields, "currency_code") or "",
            start_value=self.number(fields, "start_value"),
            target_value=self.number(fields, "target_value"),
            target_mode=TargetMode(mode or TargetMode.ABSOLUTE),
            target_change=self.number(fields, "target_change"),
            due_quarter=QUARTERS.index(due) + 1 if due else None,
            weight=Decimal(1) if weight is None else weight,
        )
        if len(self.problems) > before or not (key and title and kind):
            return None

        _MeasureRules(self, node, fields, what).check(key_result)
        return None if len(self.problems) > before else key_result

    # Field readers: each returns None when the field is absent or wrong,
    # and records a problem when it is wrong.

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


def _names(names: Iterable[str]) -> str:
    return ", ".join(names)


def _decimal_places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


class _MeasureRules:
    """The rules that tie a key result's kind, unit and numbers together."""

    def __init__(
        self, reader: _Reader, node: Node, fields: dict[str, Node], what: str
    ) -> None:
        self.reader = reader
        self.node = node
        self.fields = fields
        self.what = what

    def problem(self, name: str | None, reason: str) -> None:
        node = self.fields.get(name, self.node) if name else self.node
        self.reader.problem(node, reason)

    def check(self, kr: TemplateKeyResult) -> None:
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

    def check_unit(self, kr: TemplateKeyResult) -> None:
        if kr.unit == Unit.CURRENCY and not CURRENCY_CODE.fullmatch(kr.currency_code):
            self.problem(
                "currency_code" if kr.currency_code else None,
                "a currency unit needs a currency_code of three capital letters, "
                "like GBP",
            )
        if kr.currency_code and kr.unit != Unit.CURRENCY:
            self.problem("currency_code", "currency_code only goes with unit currency")
        if kr.unit_label and kr.unit != Unit.TEXT:
            self.problem("unit_label", "unit_label only goes with unit text")
        if kr.weight < 0:
            self.problem("weight", "weight cannot be negative")

    def check_absolute(self, kr: TemplateKeyResult) -> None:
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

    def check_relative(self, kr: TemplateKeyResult) -> None:
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

    def check_values_fit_unit(self, kr: TemplateKeyResult) -> None:
        assert kr.unit is not None
        for name in ("start_value", "target_value"):
            value = getattr(kr, name)
            problem = None if value is None else services.unit_problem(kr.unit, value)
            if problem:
                self.problem(
                    name, f"{name}: {problem[0].lower()}{problem[1:].rstrip('.')}"
                )


# Loading


@dataclass
class LoadResult:
    template: OkrTemplate
    cycle: Cycle
    created_objectives: list[Objective] = field(default_factory=list)
    created_key_results: list[KeyResult] = field(default_factory=list)
    created_teams: list[Team] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    """An objective (unsaved if new) and its new, unsaved key results."""

    objective: Objective
    key_results: list[KeyResult]


def load_template(
    name_or_path: str | Path,
    cycle: Cycle,
    owner: User,
    team: Team | None = None,
    baselines: dict[str, Decimal] | None = None,
) -> LoadResult:
    """Create the template's objectives and key results in `cycle`.

    `team` puts every objective in one team; without it each goes to the
    team the template suggests, created if missing. `baselines` gives start
    values by key result key. Everything is checked before anything is
    written, and then written in one transaction.
    """
    template = parse_template(_template_file(name_or_path))
    if cycle.is_closed:
        raise TemplateError(
            f"{cycle.name} is closed; load the template into an open cycle."
        )
    baselines = baselines or {}
    _check_baselines(template, baselines)

    planner = _Planner(template, cycle, owner, team, baselines)
    plans = [planner.plan(objective) for objective in template.objectives]
    if planner.problems:
        raise TemplateError(planner.problems)

    result = planner.result
    _write(plans, result)
    logger.info(
        "template %s loaded into cycle %s: %s objectives and %s key results "
        "created, %s items skipped",
        template.key,
        cycle.pk,
        len(result.created_objectives),
        len(result.created_key_results),
        len(result.skipped),
    )
    return result


def _check_baselines(template: OkrTemplate, baselines: dict[str, Decimal]) -> None:
    by_key = {kr.key: kr for kr in template.key_results}
    takers = ", ".join(kr.key for kr in template.key_results if kr.takes_baseline)
    problems = []
    for key, value in baselines.items():
        key_result = by_key.get(key)
        if key_result is None or not key_result.takes_baseline:
            problems.append(
                f"{template.path.name}: no key result '{key}' takes a baseline; "
                f"the ones that do are {takers or 'none'}."
            )
        elif not value.is_finite():
            problems.append(
                f"{template.path.name}: the baseline for '{key}' is not a number."
            )
    if problems:
        raise TemplateError(problems)


class _Planner:
    """Builds the unsaved objects for a load, checking each on the way."""

    def __init__(
        self,
        template: OkrTemplate,
        cycle: Cycle,
        owner: User,
        team: Team | None,
        baselines: dict[str, Decimal],
    ) -> None:
        self.template = template
        self.cycle = cycle
        self.owner = owner
        self.team = team
        self.baselines = baselines
        self.calendar: FiscalCalendar = Organisation.get().calendar
        self.teams: dict[str, Team] = {}
        self.problems: list[str] = []
        self.result = LoadResult(template, cycle)

    def plan(self, spec: TemplateObjective) -> _Plan:
        template_key = f"{self.template.key}/{spec.key}"
        objective = Objective.objects.filter(
            cycle=self.cycle, template_key=template_key
        ).first()
        present: set[str] = set()
        if objective is None:
            objective = self.new_objective(spec, template_key)
        else:
            self.result.skipped.append(f"objective '{spec.title}'")
            present = set(objective.key_results.values_list("template_key", flat=True))

        key_results = []
        for position, kr_spec in enumerate(spec.all_key_results):
            if kr_spec.key in present:
                self.skip_key_result(kr_spec)
            else:
                key_results.append(self.new_key_result(kr_spec, position))
        return _Plan(objective, key_results)

    def new_objective(self, spec: TemplateObjective, template_key: str) -> Objective:
        return Objective(
            cycle=self.cycle,
            team=self.team or self.suggested_team(spec.team),
            owner=self.owner,
            title=spec.title,
            description=_objective_description(spec),
            starting_status=spec.starting_status or "",
            template_key=template_key,
        )

    def suggested_team(self, name: str) -> Team:
        if name.lower() not in self.teams:
            team = Team.objects.filter(name__iexact=name).first()
            self.teams[name.lower()] = team or Team(name=name, slug=_free_slug(name))
        return self.teams[name.lower()]

    def skip_key_result(self, spec: TemplateKeyResult) -> None:
        self.result.skipped.append(f"key result '{spec.title}'")
        if spec.key in self.baselines:
            self.result.messages.append(
                f"The baseline for '{spec.key}' was not used: that key result is "
                "already in the cycle; change its start value there."
            )

    def new_key_result(self, spec: TemplateKeyResult, position: int) -> KeyResult:
        key_result = KeyResult(
            title=spec.title,
            owner=self.owner,
            kind=spec.kind.value,
            unit=spec.unit or Unit.COUNT,
            unit_label=spec.unit_label,
            currency_code=spec.currency_code,
            start_value=self.baselines.get(spec.key, spec.start_value),
            target_value=spec.target_value,
            target_mode=spec.target_mode.value,
            target_change=spec.target_change,
            due_date=self.due_date(spec),
            weight=spec.weight,
            position=position,
            is_headline=spec.is_headline,
            template_key=spec.key,
        )
        self.complete_definition(spec, key_result)
        return key_result

    def complete_definition(
        self, spec: TemplateKeyResult, key_result: KeyResult
    ) -> None:
        """Derive and check the target, or note that a baseline is needed."""
        if spec.takes_baseline and key_result.start_value is None:
            self.result.messages.append(
                f"'{spec.title}' has no baseline yet: its owner sets the start "
                "value and the target follows from it. A baseline can also be "
                f"given when loading, as --baseline {spec.key}=VALUE."
            )
            return

        try:
            services.apply_target_definition(key_result)
            key_result.full_clean(
                exclude=["objective", "owner"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            reasons = "; ".join(error.messages)
            baseline = self.baselines.get(spec.key)
            given = "" if baseline is None else f" with baseline {baseline}"
            self.problems.append(
                f"{self.template.path.name}, line {spec.line}: key result "
                f"'{spec.key}'{given}: {reasons}"
            )

    def due_date(self, spec: TemplateKeyResult) -> date | None:
        if spec.due_quarter is None:
            return None
        quarter = self.calendar.quarter_period(self.cycle.fiscal_year, spec.due_quarter)
        if self.cycle.contains(quarter.end):
            return quarter.end

        self.result.messages.append(
            f"'{spec.title}' is due by the end of Q{spec.due_quarter} "
            f"({_day(quarter.end)}), which is outside {self.cycle.name}; it is due "
            f"at the end of {self.cycle.name} ({_day(self.cycle.end_date)}) instead."
        )
        return self.cycle.end_date


def _objective_description(spec: TemplateObjective) -> str:
    notes = [
        f"- {kr.title}: {kr.definition}" for kr in spec.all_key_results if kr.definition
    ]
    if not notes:
        return spec.description
    parts = [spec.description, "How the key results are measured:", *notes]
    return "\n".join(part for part in parts if part)


def _free_slug(name: str) -> str:
    base = slugify(name) or "team"
    slug, number = base, 1
    while Team.objects.filter(slug=slug).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


def _day(day: date) -> str:
    return date_format(day, "j M Y")


def _write(plans: list[_Plan], result: LoadResult) -> None:
    try:
        with transaction.atomic():
            for plan in plans:
                _write_plan(plan, result)
    except IntegrityError as error:
        raise TemplateError(
            f"Could not load {result.template.key} into {result.cycle.name}: "
            f"something changed while loading ({error}). Nothing was saved; "
            "try again."
        ) from error


def _write_plan(plan: _Plan, result: LoadResult) -> None:
    objective = plan.objective
    if objective.pk is None:
        if objective.team.pk is None:
            objective.team.save()
            result.created_teams.append(objective.team)
            result.messages.append(f"Created the team '{objective.team.name}'.")
        objective.save()
        result.created_objectives.append(objective)

    for key_result in plan.key_results:
        key_result.objective = objective
        key_result.save()
        result.created_key_results.append(key_result)
