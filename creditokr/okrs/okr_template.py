"""Loading a parsed OKR template into a cycle.

`load_template` turns a template read by `template_format.parse_template`
into objectives and key results in one cycle, all in one transaction, after
checking everything it is about to write.

Loading is idempotent: each item carries a stable key, stored as the
`template_key` of what it creates, and items already present in the cycle
are skipped.
"""

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from creditokr.accounts.models import Organisation, Team, User
from creditokr.cycles.fiscal import FiscalCalendar
from creditokr.cycles.models import Cycle
from creditokr.okrs import services
from creditokr.okrs.models import KeyResult, Objective, Unit
from creditokr.okrs.template_format import (
    OkrTemplate,
    TemplateError,
    TemplateKeyResult,
    TemplateObjective,
    parse_template,
    template_path,
)
from creditokr.okrs.wording import format_day

logger = logging.getLogger(__name__)


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
    *,
    from_web: bool = False,
) -> LoadResult:
    """Create the template's objectives and key results in `cycle`.

    `team` puts every objective in one team; without it each goes to the
    team the template suggests, created if missing. `baselines` gives start
    values by key result key. Everything is checked before anything is
    written, and then written in one transaction. `from_web` words the
    notes for people loading from a page rather than the command.
    """
    template = parse_template(_template_file(name_or_path))
    if cycle.is_closed:
        raise TemplateError(
            f"{cycle.name} is closed; load the template into an open cycle."
        )
    baselines = baselines or {}
    _check_baselines(template, baselines)

    planner = _Planner(template, cycle, owner, team, baselines, from_web=from_web)
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


def _template_file(name_or_path: str | Path) -> Path:
    if isinstance(name_or_path, Path):
        return name_or_path
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        return Path(name_or_path)
    return template_path(name_or_path)


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
        *,
        from_web: bool = False,
    ) -> None:
        self.template = template
        self.from_web = from_web
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
            description=spec.description,
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
            definition=spec.definition,
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
            self.result.messages.append(self.baseline_needed(spec))
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

    def baseline_needed(self, spec: TemplateKeyResult) -> str:
        if self.from_web:
            return (
                f"'{spec.title}' has no baseline yet: its owner sets the start "
                "value when editing the key result, and the target follows "
                "from it."
            )
        return (
            f"'{spec.title}' has no baseline yet: its owner sets the start "
            "value and the target follows from it. A baseline can also be "
            f"given when loading, as --baseline {spec.key}=VALUE."
        )

    def due_date(self, spec: TemplateKeyResult) -> date | None:
        if spec.due_quarter is None:
            return None
        quarter = self.calendar.quarter_period(self.cycle.fiscal_year, spec.due_quarter)
        if self.cycle.contains(quarter.end):
            return quarter.end

        self.result.messages.append(
            f"'{spec.title}' is due by the end of Q{spec.due_quarter} "
            f"({format_day(quarter.end)}), which is outside {self.cycle.name}; it "
            f"is due at the end of {self.cycle.name} "
            f"({format_day(self.cycle.end_date)}) instead."
        )
        return self.cycle.end_date


def _free_slug(name: str) -> str:
    base = slugify(name) or "team"
    slug, number = base, 1
    while Team.objects.filter(slug=slug).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


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
