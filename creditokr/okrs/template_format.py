"""OKR templates: objectives and key results written down in a YAML file.

`parse_template` checks every field of a template file and returns frozen
dataclasses, or raises `TemplateError` naming the file, the line and the
reason for each problem; `template_checks` holds the checks themselves.
Loading a parsed template into a cycle is `okr_template.load_template`.

The shipped templates live in the `library` folder next to this module;
`credit-management.yaml` shows the format.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml
from yaml.nodes import Node

from creditokr.okrs.models import Unit
from creditokr.okrs.progress import Kind, Status, TargetMode
from creditokr.okrs.template_checks import SLUG, FieldReader, MeasureRules

LIBRARY = Path(__file__).resolve().parent / "library"
QUARTERS = ("Q1", "Q2", "Q3", "Q4")

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


class _Reader(FieldReader):
    """Walks the YAML node tree, collecting problems with their lines."""

    # Parts of a template

    def template(self, root: Node | None, path: Path) -> OkrTemplate | None:
        if root is None:
            self.problem(
                None,
                "the file is empty; a template needs " + ", ".join(TEMPLATE_FIELDS[0]),
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

        MeasureRules(self, node, fields, what).check(key_result)
        return None if len(self.problems) > before else key_result
