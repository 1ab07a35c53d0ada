"""Deactivating someone who leaves, and bringing them back.

A deactivated person can no longer sign in, but nothing they did is
removed: their name stays on the history, comments and check-ins. Their
open work does not sit there undone: in the same transaction as the
deactivation, each key result they own and each initiative assigned to them
that is still open (see `services.open_key_results` and
`open_initiatives`) goes to someone else, through the same operation as any
assignment, so the history says who handed it over. By default work goes to
its objective's owner; an administrator may choose one person per team
instead. Finished work (done initiatives, archived key results, closed
cycles) keeps their name. Their sessions end at once.

Reactivating lets them sign in again; work handed over stays where it went.
"""

import logging
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from creditokr.accounts.models import Team, User
from creditokr.activity.recording import attribute
from creditokr.okrs import access, services
from creditokr.okrs.models import Initiative
from creditokr.okrs.services import Assignable
from creditokr.okrs.wording import quoted

logger = logging.getLogger(__name__)


@dataclass
class Handover:
    """One open item of the person leaving, and who it goes to."""

    item: Assignable
    to: User
    problem: str = ""

    @property
    def key(self) -> str:
        return services.item_key(self.item)

    @property
    def kind(self) -> str:
        return "initiative" if isinstance(self.item, Initiative) else "key result"


def open_work(person: User) -> list[Assignable]:
    """Key results they own and initiatives assigned to them, still open."""
    related = ("objective__team", "objective__owner", "objective__cycle")
    key_results = services.open_key_results().filter(owner=person)
    initiatives = services.open_initiatives().filter(assignee=person)
    items: list[Assignable] = [
        *key_results.select_related(*related).order_by("objective__team__name", "pk"),
        *initiatives.select_related(*related).order_by("objective__team__name", "pk"),
    ]
    return items


def plan(
    admin: User, person: User, chosen: Mapping[int, User | None] | None = None
) -> list[Handover]:
    """Who each open item goes to: `chosen` per team id, else the objective's
    owner, with what stops that, if anything."""
    actor = access.actor_for(admin)
    handovers = []
    for item in open_work(person):
        objective = item.objective
        picked = (chosen or {}).get(objective.team_id)
        to = picked or objective.owner
        handovers.append(Handover(item, to, _problem(actor, person, item, to, picked)))
    return handovers


def _problem(
    actor: access.Actor,
    person: User,
    item: Assignable,
    to: User,
    picked: User | None,
) -> str:
    team = item.objective.team
    if to == person:
        if picked is not None:
            return f"{person} is the one leaving; choose someone else for {team}"
        return (
            f"its objective's owner is {person}; choose someone in {team} to give it to"
        )
    problem = services.assignment_refusal(actor, item, to)
    if problem and picked is None:
        return f"its objective's owner: {problem}; choose someone for {team}"
    return problem


def teams_in(handovers: list[Handover]) -> list[Team]:
    teams = {h.item.objective.team_id: h.item.objective.team for h in handovers}
    return sorted(teams.values(), key=lambda team: team.name)


def deactivate(
    admin: User,
    person: User,
    chosen: Mapping[int, User | None] | None = None,
    shown: Collection[str] | None = None,
) -> int:
    """Hand over their open work, deactivate them and end their sessions.

    All in one transaction, or nothing: if any item cannot go where it is
    meant to, or their open work is not what the administrator was shown
    (`shown`, by `services.item_key`), nothing changes and the
    ValidationError says why. Returns how many items were handed over.
    """
    _check_may_deactivate(admin, person)
    reason = f"{person} was deactivated; their open work was handed over."
    with transaction.atomic():
        handovers = plan(admin, person, chosen)
        if shown is not None and {h.key for h in handovers} != set(shown):
            raise ValidationError(
                f"{person}'s open work changed since the page was shown. Nothing "
                "was changed; check the list again and confirm."
            )
        problems = [
            f"{quoted(h.item.title)} ({h.problem})" for h in handovers if h.problem
        ]
        if problems:
            raise ValidationError(
                f"Nothing was changed. Some work has nowhere to go: "
                f"{'; '.join(problems)}."
            )

        by_person: dict[int, list[Handover]] = defaultdict(list)
        for handover in handovers:
            by_person[handover.to.pk].append(handover)
        for group in by_person.values():
            items = [handover.item for handover in group]
            services.bulk_assign(admin, items, group[0].to, reason=reason)

        person.is_active = False
        attribute(person, admin, "Deactivated by an administrator.")
        person.save(update_fields=["is_active"])
        ended = end_sessions(person)
    logger.info(
        "user %s deactivated by user %s: %s items handed over, %s sessions ended",
        person.pk,
        admin.pk,
        len(handovers),
        ended,
    )
    return len(handovers)


def _check_may_deactivate(admin: User, person: User) -> None:
    if not access.actor_for(admin).is_admin:
        raise ValidationError("Only administrators deactivate people.")
    if person.pk == admin.pk:
        raise ValidationError(
            "You cannot deactivate yourself; ask another administrator."
        )
    if person.is_superuser and not admin.is_superuser:
        raise ValidationError("Only a superuser can deactivate a superuser.")
    if not person.is_active:
        raise ValidationError(f"{person} is deactivated already.")


def reactivate(admin: User, person: User) -> bool:
    """Let a deactivated person sign in again; False if they could already."""
    if not access.actor_for(admin).is_admin:
        raise ValidationError("Only administrators reactivate people.")
    if person.is_active:
        return False
    person.is_active = True
    attribute(person, admin, "Reactivated by an administrator.")
    person.save(update_fields=["is_active"])
    logger.info("user %s reactivated by user %s", person.pk, admin.pk)
    return True


def end_sessions(person: User) -> int:
    """Delete the stored sessions signed in as `person`; returns how many."""
    ended = 0
    live = Session.objects.filter(expire_date__gt=timezone.now())
    for session in live.iterator():
        if session.get_decoded().get(SESSION_KEY) == str(person.pk):
            session.delete()
            ended += 1
    return ended
