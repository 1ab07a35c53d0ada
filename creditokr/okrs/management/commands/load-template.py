"""`creditokr load-template NAME --cycle CYCLE`: load an OKR template.

NAME is a template from the library (such as credit-management) or a path
to a YAML file. Nothing is written unless the whole template loads.
"""

from argparse import ArgumentParser
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from creditokr.accounts.models import Role, Team, User
from creditokr.cycles.models import Cycle, CycleState
from creditokr.okrs.okr_template import LoadResult, load_template
from creditokr.okrs.template_format import TemplateError


class Command(BaseCommand):
    help = "Load an OKR template into a cycle, skipping what is already there."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "template",
            help="A template name, such as credit-management, or a YAML file.",
        )
        parser.add_argument(
            "--cycle",
            required=True,
            help='The cycle\'s name, such as "FY2027" or "FY2027 Q3", or its id.',
        )
        parser.add_argument(
            "--owner",
            help="Username of the owner of everything created "
            "(default: the first administrator).",
        )
        parser.add_argument(
            "--team",
            help="Put every objective in this team instead of the suggested ones.",
        )
        parser.add_argument(
            "--baseline",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="The start value of a key result, by its key in the template, "
            "e.g. delinquency-rate=8. Can be given more than once.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        cycle = find_cycle(options["cycle"])
        owner = find_owner(options["owner"])
        team = find_team(options["team"]) if options["team"] else None
        baselines = parse_baselines(options["baseline"])
        try:
            result = load_template(options["template"], cycle, owner, team, baselines)
        except TemplateError as error:
            raise CommandError(str(error)) from None

        self.report(result)

    def report(self, result: LoadResult) -> None:
        template, cycle = result.template, result.cycle
        self.stdout.write(f"Template {template.key} ({template.title}) into {cycle}:")
        for objective in result.created_objectives:
            self.stdout.write(f"  created objective: {objective} [{objective.team}]")
            for key_result in result.created_key_results:
                if key_result.objective == objective:
                    self.stdout.write(f"    created key result: {key_result}")
        for key_result in result.created_key_results:
            if key_result.objective not in result.created_objectives:
                self.stdout.write(
                    f"  created key result: {key_result} "
                    f"(in the existing objective '{key_result.objective}')"
                )
        for item in result.skipped:
            self.stdout.write(f"  skipped, already there: {item}")
        for message in result.messages:
            self.stdout.write(f"  note: {message}")
        objectives = _count(len(result.created_objectives), "objective")
        key_results = _count(len(result.created_key_results), "key result")
        skipped = _count(len(result.skipped), "item")
        self.stdout.write(
            f"Created {objectives} and {key_results}; "
            f"skipped {skipped} already in {cycle}."
        )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def find_cycle(text: str) -> Cycle:
    text = text.strip()
    if text.isdigit():
        matches = list(Cycle.objects.filter(pk=int(text)))
    else:
        matches = list(Cycle.objects.filter(name__iexact=text)[:2])
    if len(matches) == 1:
        return matches[0]

    if matches:
        raise CommandError(f"More than one cycle is called '{text}'; give its id.")
    open_cycles = Cycle.objects.exclude(state=CycleState.CLOSED)
    names = ", ".join(cycle.name for cycle in open_cycles) or "none yet"
    raise CommandError(f"There is no cycle '{text}'. Open cycles: {names}.")


def find_owner(username: str | None) -> User:
    if username:
        owner = User.objects.filter(username=username, is_active=True).first()
        if owner is None:
            raise CommandError(f"There is no active user called '{username}'.")
        return owner

    admins = User.objects.filter(is_active=True).order_by("pk")
    owner = (
        admins.filter(is_superuser=True).first()
        or admins.filter(memberships__role=Role.ADMIN).first()
    )
    if owner is None:
        raise CommandError(
            "There is no administrator to own the objectives; pass --owner USERNAME."
        )
    return owner


def find_team(name: str) -> Team:
    team = Team.objects.filter(Q(name__iexact=name) | Q(slug=name)).first()
    if team is None:
        names = ", ".join(Team.objects.values_list("name", flat=True)) or "none yet"
        raise CommandError(f"There is no team called '{name}'. Teams: {names}.")
    return team


def parse_baselines(items: list[str]) -> dict[str, Decimal]:
    baselines = {}
    for item in items:
        key, _, text = item.partition("=")
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            value = Decimal("NaN")
        if not key.strip() or not value.is_finite():
            raise CommandError(
                f"--baseline '{item}' should be KEY=NUMBER, "
                "e.g. --baseline delinquency-rate=8"
            )
        baselines[key.strip()] = value
    return baselines
