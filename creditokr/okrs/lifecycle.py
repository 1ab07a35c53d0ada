"""Archiving, deleting and carrying objectives over to a later cycle.

Archiving keeps everything and only takes an objective or key result out of
the roll-ups. Before it happens the person is shown what it does:
`archive_effect` works out, with the board's own roll-up and from what that
person may see, the progress and status of the objectives above it before
and after, and how the cycle's dashboard counts move. A team-only objective
someone cannot see never appears in their effect, exactly as it never
counts in their board. Restoring shows the reverse.

Deleting is final and for administrators only. They type the title and say
why; the objective (or key result) goes in one transaction with everything
in it, and the history keeps a deletion row for each thing, with who did it
and why. Rows written earlier are first placed under the objective's team
and visibility, so once the objective is gone they stay readable by the
same people as before.

Duplicating carries an objective's definition into a later cycle, by
default the next one of the same kind: its live key results with their
baselines, targets and data feeds, and the initiatives not yet done, but no
check-ins. The copy remembers its original. Due dates move by the days
between the cycle starts and are cleared when they would fall outside the
new cycle; people who can no longer take part are replaced; an alignment
that no longer fits is dropped. Each of these is said, never done quietly.
"""

import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, router, transaction
from django.db.models import ProtectedError, Q, QuerySet, RestrictedError
from django.db.models.deletion import Collector

from creditokr.accounts.models import Organisation, Role, User
from creditokr.activity.models import ChangeRecord
from creditokr.activity.recording import attribute
from creditokr.creditdata.models import KeyResultFeed
from creditokr.cycles.models import Cycle, CycleState
from creditokr.cycles.services import find_cycle, following_period, next_cycle
from creditokr.okrs import access, participation
from creditokr.okrs.access import Actor
from creditokr.okrs.board import (
    MAX_ALIGNMENT_DEPTH,
    KeyResultCard,
    ObjectiveCard,
    key_result_card,
    objective_cards,
    roll_up,  # the board's own rule, so an effect matches what it will show
)
from creditokr.okrs.key_result_checks import check_key_result
from creditokr.okrs.models import (
    CheckIn,
    Initiative,
    InitiativeState,
    KeyResult,
    Objective,
    Visibility,
)
from creditokr.okrs.objective_checks import (
    check_initiative,
    check_objective,
    check_parent,
)
from creditokr.okrs.progress import Status, format_progress
from creditokr.okrs.services import is_data_fed, latest_data_reading
from creditokr.okrs.views import STATUS_ORDER
from creditokr.okrs.wording import format_day, quoted

logger = logging.getLogger(__name__)

ARCHIVE, RESTORE = "archive", "restore"
ACTIONS = (ARCHIVE, RESTORE)

# Initiatives that are finished stay with the cycle they were finished in.
FINISHED_INITIATIVES = frozenset({InitiativeState.DONE.value})


# The roll-up effect of archiving or restoring


@dataclass(frozen=True)
class Shift:
    """One objective's progress and status before and after a change."""

    objective: Objective
    progress_before: Decimal | None
    status_before: Status
    progress_after: Decimal | None
    status_after: Status

    @property
    def changed(self) -> bool:
        before = (self.progress_before, self.status_before)
        return before != (self.progress_after, self.status_after)

    @property
    def figures(self) -> str:
        """E.g. "62.0% → 70.0%, status At risk → On track"."""
        before, after = _percent(self.progress_before), _percent(self.progress_after)
        progress = (
            f"progress stays {before}" if before == after else f"{before} → {after}"
        )
        old, new = self.status_before.label, self.status_after.label
        status = f"status stays {old}" if old == new else f"status {old} → {new}"
        return f"{progress}, {status}"


@dataclass(frozen=True)
class CountShift:
    """How a cycle's dashboard counts move: objectives, and by status."""

    cycle: Cycle
    total_before: int
    total_after: int
    statuses: tuple[tuple[Status, int, int], ...]

    def __str__(self) -> str:
        parts = []
        if self.total_before != self.total_after:
            parts.append(f"{self.total_before} → {self.total_after} objectives")
        parts += [f"{s.label} {before} → {after}" for s, before, after in self.statuses]
        return "; ".join(parts)


@dataclass(frozen=True)
class ArchiveEffect:
    """What archiving (or restoring) one item does to the roll-ups."""

    item: Objective | KeyResult
    action: str
    # For a key result: its objective's progress and status.
    own: Shift | None
    # Up the alignment, parent first.
    above: tuple[Shift, ...]
    dashboard: CountShift | None

    @property
    def lines(self) -> list[str]:
        """The effect in sentences, for the confirmation page and message."""
        lines = []
        archiving = self.action == ARCHIVE
        verb = "leaves" if archiving else "counts again in"
        name = quoted(self.item.title)
        above = list(self.above)
        if self.own is not None:
            own = self.own
            lines.append(
                f"{name} {verb} the progress of {quoted(own.objective.title)}: "
                f"{own.figures}."
            )
        elif above:
            parent = above.pop(0)
            lines.append(
                f"{name} {verb} the progress of {quoted(parent.objective.title)}: "
                f"{parent.figures}."
            )
        else:
            lines.append(
                "No objective you can see is aligned above it, so no other "
                "progress changes."
            )
        lines += [
            f"Further up, {quoted(shift.objective.title)}: {shift.figures}."
            for shift in above
        ]
        if self.dashboard is not None:
            lines.append(self._dashboard_line(self.dashboard))
        return lines

    def _dashboard_line(self, shift: CountShift) -> str:
        cycle = shift.cycle
        if isinstance(self.item, KeyResult):
            return f"On the {cycle} dashboard: {shift}."
        if self.action == ARCHIVE:
            return f"It leaves the {cycle} dashboard counts: {shift}."
        return f"It is back in the {cycle} dashboard counts: {shift}."


def archive_effect(
    actor: Actor,
    item: Objective | KeyResult,
    action: str,
    organisation: Organisation,
    today: date,
) -> ArchiveEffect:
    """What archiving or restoring `item` would do, as `actor` sees it.

    The alignment above is loaded as the board loads it, the item is taken
    out (or put back) in memory, and the board's roll-up runs again; nothing
    is written.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if item.archived == (action == ARCHIVE):
        raise ValueError(f"{item} is {action}d already")
    is_key_result = isinstance(item, KeyResult)
    objective = item.objective if isinstance(item, KeyResult) else item
    # An archived objective counts in nothing above it; restoring it would.
    counted_above = not objective.archived or not is_key_result
    ancestors = _rolled_up_by(actor, objective) if counted_above else []
    chain = [*reversed(ancestors), objective]
    tree = _card(actor, chain[0], organisation, today)
    path = _path_down(tree, chain)
    if is_key_result and path[-1].objective.pk != objective.pk:
        # Deeper than the board attaches children: nothing above changes.
        tree = _card(actor, objective, organisation, today)
        path = [tree]

    before = [(card.progress, card.status) for card in path]
    own_card = _apply(actor, item, action, path, organisation, today)
    _roll_up_again(tree)

    shifts = [
        Shift(card.objective, progress, status, card.progress, card.status)
        for card, (progress, status) in zip(path, before, strict=True)
    ]
    own: Shift | None = None
    above = shifts
    if is_key_result:
        own, above = shifts[-1], shifts[:-1]
    elif shifts and shifts[-1].objective.pk == objective.pk:
        above = shifts[:-1]
    above = above[::-1]
    if is_key_result:
        above = [shift for shift in above if shift.changed]
    else:
        above = above[:1] + [shift for shift in above[1:] if shift.changed]

    moves = _status_moves(objective, action, own, above, own_card)
    dashboard = _count_shift(actor, objective.cycle, moves, organisation, today)
    return ArchiveEffect(item, action, own, tuple(above), dashboard)


def _apply(
    actor: Actor,
    item: Objective | KeyResult,
    action: str,
    path: list[ObjectiveCard],
    organisation: Organisation,
    today: date,
) -> ObjectiveCard | None:
    """Take the item out of the loaded cards, or put it in; returns the
    objective's own card when an objective is archived or restored."""
    archiving = action == ARCHIVE
    if isinstance(item, KeyResult):
        card = path[-1]
        card.key_results = [
            kr for kr in card.key_results if kr.key_result.pk != item.pk
        ]
        if not archiving:
            card.key_results.append(_archived_card(item, card, organisation, today))
        return None

    if archiving:
        if path[-1].objective.pk != item.pk:
            return _card(actor, item, organisation, today)
        own = path[-1]
        if len(path) > 1:
            parent = path[-2]
            parent.children = [c for c in parent.children if c is not own]
        return own
    own = _card(actor, item, organisation, today)
    if path[-1].objective.pk != item.pk:
        path[-1].children.append(own)
    return own


def _archived_card(
    key_result: KeyResult,
    card: ObjectiveCard,
    organisation: Organisation,
    today: date,
) -> KeyResultCard:
    """The card an archived key result would have once restored."""
    if is_data_fed(key_result):
        latest = latest_data_reading(key_result)
    else:
        latest = (
            CheckIn.objects.filter(key_result=key_result)
            .order_by("-as_of", "-created_at", "-pk")
            .first()
        )
    return key_result_card(key_result, latest, card.objective, organisation, today)


def _rolled_up_by(actor: Actor, objective: Objective) -> list[Objective]:
    """The objectives above this one whose progress it counts in, parent
    first: each visible to the actor and live, as the board attaches them."""
    visible = access.visible_objectives(actor)
    found: list[Objective] = []
    seen = {objective.pk}
    node = objective
    while node.parent_id and len(found) < MAX_ALIGNMENT_DEPTH:
        parent = visible.filter(pk=node.parent_id, archived=False).first()
        if parent is None or parent.pk in seen:
            break
        found.append(parent)
        seen.add(parent.pk)
        node = parent
    return found


def _card(
    actor: Actor, objective: Objective, organisation: Organisation, today: date
) -> ObjectiveCard:
    only_this = access.visible_objectives(actor).filter(pk=objective.pk)
    return objective_cards(actor, only_this, organisation, today)[0]


def _path_down(tree: ObjectiveCard, chain: list[Objective]) -> list[ObjectiveCard]:
    """The cards from the top of `chain` down, as far as they are attached."""
    path = [tree]
    for objective in chain[1:]:
        below = [c for c in path[-1].children if c.objective.pk == objective.pk]
        if not below:
            break
        path.append(below[0])
    return path


def _roll_up_again(tree: ObjectiveCard) -> None:
    pending = [tree]
    while pending:
        card = pending.pop()
        card.progress = None
        card.computed_status = Status.NOT_STARTED
        pending.extend(card.children)
    roll_up(tree)


def _status_moves(
    objective: Objective,
    action: str,
    own: Shift | None,
    above: list[Shift],
    own_card: ObjectiveCard | None,
) -> list[tuple[Status | None, Status | None]]:
    """How the statuses counted on the objective's cycle dashboard change:
    (before, after), None where the objective is not counted."""
    cycle_id = objective.cycle_id
    moves: list[tuple[Status | None, Status | None]] = [
        (shift.status_before, shift.status_after)
        for shift in above
        if shift.objective.cycle_id == cycle_id and shift.changed
    ]
    if own is not None and not objective.archived and own.changed:
        moves.append((own.status_before, own.status_after))
    if own_card is not None:
        status = own_card.status
        moves.append((status, None) if action == ARCHIVE else (None, status))
    return moves


def _count_shift(
    actor: Actor,
    cycle: Cycle,
    moves: list[tuple[Status | None, Status | None]],
    organisation: Organisation,
    today: date,
) -> CountShift | None:
    """The cycle's dashboard counts (the board's own) and where they go."""
    moves = [(before, after) for before, after in moves if before != after]
    if not moves:
        return None
    live = access.visible_objectives(actor).filter(cycle=cycle, archived=False)
    cards = objective_cards(actor, live, organisation, today)
    before = Counter(card.status for card in cards)
    after = Counter(before)
    total = len(cards)
    for old, new in moves:
        if old is not None:
            after[old] -= 1
            total -= 1
        if new is not None:
            after[new] += 1
            total += 1
    statuses = tuple(
        (status, before[status], after[status])
        for status in STATUS_ORDER
        if before[status] != after[status]
    )
    return CountShift(cycle, len(cards), total, statuses)


def _percent(progress: Decimal | None) -> str:
    return "no figure" if progress is None else f"{format_progress(progress)}%"


def restore_refusal(key_result: KeyResult) -> str:
    """Why restoring a key result would be refused now, or ""."""
    cycle = key_result.objective.cycle
    due = key_result.due_date
    if due is None or cycle.contains(due):
        return ""
    return (
        f"{quoted(key_result.title)} is due {format_day(due)}, outside {cycle}. "
        "Edit it to change or clear its due date, then restore it."
    )


# Deleting, for administrators


@dataclass(frozen=True)
class Deletion:
    """What goes with an objective or key result when it is deleted."""

    key_results: int = 0
    check_ins: int = 0
    initiatives: int = 0
    feeds: int = 0
    # Anything else that belongs to it, by name: ("comments", 3).
    others: tuple[tuple[str, int], ...] = ()
    # Objectives aligned under it, which lose that alignment but stay.
    unaligned: int = 0
    # Copies made from it, which stay but no longer link back.
    copies: int = 0
    # Why it cannot be deleted at all, if something protects it.
    blocked: str = ""

    @property
    def lines(self) -> list[str]:
        lines = [
            counted(number, noun)
            for number, noun in (
                (self.key_results, "key result"),
                (self.check_ins, "check-in"),
                (self.initiatives, "initiative"),
                (self.feeds, "data feed"),
            )
            if number
        ]
        lines += [f"{number} {name}" for name, number in self.others]
        return lines


def counted(number: int, noun: str) -> str:
    """A number with its noun: 1 key result, 3 key results."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


# Counted by name on the confirmation page; everything else as "others".
_NAMED = (Objective, KeyResult, CheckIn, Initiative, KeyResultFeed)


def deletion_of(item: Objective | KeyResult) -> Deletion:
    """Everything that would be deleted with `item`, counted.

    Worked out by Django's own deletion collector, so whatever else belongs
    to it (comments, readings of its data feeds...) is counted too.
    """
    try:
        collected = _collected(item)
    except (ProtectedError, RestrictedError) as error:
        return Deletion(blocked=_blocked_message(item, error))
    others = tuple(
        sorted(
            (str(model._meta.verbose_name_plural), number)
            for model, number in collected.items()
            if model not in _NAMED and number
        )
    )
    deletion = Deletion(
        key_results=collected[KeyResult],
        check_ins=collected[CheckIn],
        initiatives=collected[Initiative],
        feeds=collected[KeyResultFeed],
        others=others,
    )
    if isinstance(item, Objective):
        deletion = replace(
            deletion,
            unaligned=Objective.objects.filter(parent=item).count(),
            copies=Objective.objects.filter(copied_from=item).count(),
        )
    return deletion


def _collected(item: models.Model) -> Counter[type[models.Model]]:
    collector = Collector(using=router.db_for_write(type(item)))
    collector.collect([item])
    counts: Counter[type[models.Model]] = Counter()
    for model, instances in collector.data.items():
        counts[model] += len(instances)
    for batch in collector.fast_deletes:
        if isinstance(batch, QuerySet):
            counts[batch.model] += batch.count()
        else:
            for instance in batch:
                counts[type(instance)] += 1
    counts[type(item)] -= 1
    return counts


def _blocked_message(
    item: models.Model, error: ProtectedError | RestrictedError
) -> str:
    if isinstance(error, ProtectedError):
        blocking = error.protected_objects
    else:
        blocking = error.restricted_objects
    names = sorted({str(type(o)._meta.verbose_name_plural) for o in blocking})
    return (
        f"{quoted(str(item))} cannot be deleted while other records refer to it "
        f"({', '.join(names) or 'other records'}). Archive it instead."
    )


def delete_objective(
    actor: Actor, objective: Objective, *, title: str, reason: str
) -> Deletion:
    """Delete an objective and everything in it, for good.

    Only administrators may; `title` must repeat the objective's title and
    `reason` say why. Objectives aligned under it stay, unaligned; copies
    made from it stay, without their link back. Returns what went.
    """
    _require_admin(actor)
    reason = _check_confirmation(objective.title, title, reason)
    with transaction.atomic():
        current = _locked(Objective, objective.pk)
        deletion = deletion_of(current)
        if deletion.blocked:
            raise ValidationError(deletion.blocked)
        _place_history(current)
        _unalign_children(actor.user, current, reason)
        key_results = KeyResult.objects.filter(objective=current)
        _delete_each(
            actor.user, reason, CheckIn.objects.filter(key_result__in=key_results)
        )
        _delete_each(actor.user, reason, Initiative.objects.filter(objective=current))
        _delete_each(actor.user, reason, key_results)
        _delete(actor.user, reason, current)
    logger.info("objective %s deleted by user %s", objective.pk, actor.user.pk)
    return deletion


def delete_key_result(
    actor: Actor, key_result: KeyResult, *, title: str, reason: str
) -> Deletion:
    """Delete a key result with its check-ins, the initiatives under it and
    its data feed, for good. Administrators only, with title and reason."""
    _require_admin(actor)
    reason = _check_confirmation(key_result.title, title, reason)
    with transaction.atomic():
        current = _locked(KeyResult, key_result.pk)
        deletion = deletion_of(current)
        if deletion.blocked:
            raise ValidationError(deletion.blocked)
        _delete_each(actor.user, reason, CheckIn.objects.filter(key_result=current))
        _delete_each(actor.user, reason, Initiative.objects.filter(key_result=current))
        _delete(actor.user, reason, current)
    logger.info("key result %s deleted by user %s", key_result.pk, actor.user.pk)
    return deletion


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied(
            "Only an administrator can delete; archive it instead, which keeps "
            "its history and can be undone."
        )


def _check_confirmation(expected: str, typed: str, reason: str) -> str:
    """The reason, once the title typed matches; refuses both at once."""
    errors: dict[str, str] = {}
    if not typed.strip():
        errors["title"] = f"Type the title, {quoted(expected)}, to confirm."
    elif " ".join(typed.split()) != " ".join(expected.split()):
        errors["title"] = (
            f"That is not the title. Type {quoted(expected)} exactly to confirm."
        )
    if not reason.strip():
        errors["reason"] = "Say why it is deleted; the history keeps the reason."
    if errors:
        raise ValidationError(errors)
    return reason.strip()


def _locked[M: (Objective, KeyResult)](model: type[M], pk: int) -> M:
    found = model._default_manager.select_for_update().filter(pk=pk).first()
    if found is None:
        raise ValidationError("It has been deleted already.")
    return found


def _place_history(objective: Objective) -> None:
    """Keep the objective's history readable by the same people once it is
    gone: its rows lose the objective, so they carry its team and
    visibility as they are now."""
    ChangeRecord.objects.filter(objective=objective).update(
        team_id=objective.team_id,
        team_only=objective.visibility == Visibility.TEAM,
    )


def _unalign_children(user: User, objective: Objective, reason: str) -> None:
    """Objectives aligned under one being deleted stay, unaligned, and
    their history says why."""
    why = f"{quoted(objective.title)}, which it was aligned to, was deleted: {reason}"
    for child in Objective.objects.filter(parent=objective):
        child.parent = None
        child.version += 1
        attribute(child, user, why)
        child.save(update_fields=["parent", "version", "updated_at"])


def _delete_each(user: User, reason: str, items: QuerySet[Any]) -> None:
    for item in items.order_by("pk"):
        _delete(user, reason, item)


def _delete(user: User, reason: str, item: models.Model) -> None:
    attribute(item, user, reason)
    item.delete()


# Duplicating into a later cycle


@dataclass(frozen=True)
class Target:
    """A cycle a copy may go to; `cycle` is None for the next cycle when it
    has not been opened yet (the copy opens it)."""

    label: str
    start: date
    end: date
    cycle: Cycle | None = None
    # The next cycle of the same kind: the default.
    is_next: bool = False

    @property
    def key(self) -> str:
        return "next" if self.cycle is None else str(self.cycle.pk)

    @classmethod
    def of(cls, cycle: Cycle, *, is_next: bool = False) -> "Target":
        return cls(str(cycle), cycle.start_date, cycle.end_date, cycle, is_next)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def can_duplicate(actor: Actor, objective: Objective) -> bool:
    """Anyone who may create objectives in its team may copy it.

    The same rule as `access.teams_for_new_objectives` (administrators,
    and members or managers of the team), read from the roles already
    loaded, so the objective's page asks the database nothing for it.
    """
    return actor.is_contributor and actor.has_role(objective.team_id, Role.MEMBER)


def copy_targets(
    actor: Actor, objective: Objective, organisation: Organisation
) -> list[Target]:
    """Where a copy may go, the default first.

    The default is the next cycle of the same kind. If it is not opened
    yet, it is offered only to those who may plan cycles (the copy opens
    it). Every other open cycle starting later follows.
    """
    cycle = objective.cycle
    period = following_period(organisation, cycle)
    following = find_cycle(period)
    if following is None:
        opened = access.can_plan_cycles(actor)
        first = [Target(period.label, period.start, period.end, is_next=True)]
        return (first if opened else []) + _later(cycle)
    if (following.start_date, following.end_date) != (period.start, period.end):
        return _later(cycle)  # made under an earlier fiscal calendar
    later = _later(cycle)
    if not any(target.cycle == following for target in later):
        return later  # closed
    rest = [target for target in later if target.cycle != following]
    return [Target.of(following, is_next=True), *rest]


def _later(cycle: Cycle) -> list[Target]:
    later = (
        Cycle.objects.exclude(state=CycleState.CLOSED)
        .filter(start_date__gt=cycle.start_date)
        .order_by("start_date", "kind", "pk")
    )
    return [Target.of(c) for c in later]


def target_for(key: str, targets: list[Target]) -> Target | None:
    """The target a form's choice names: "next", or any cycle's id (the
    service says why a cycle that was not offered is refused)."""
    for target in targets:
        if target.key == key:
            return target
    number = access.as_id(key)
    cycle = None if number is None else Cycle.objects.filter(pk=number).first()
    return None if cycle is None else Target.of(cycle)


@dataclass
class CopyPlan:
    """What a copy into `target` will hold, and what changes on the way."""

    original: Objective
    target: Target
    copy: Objective
    key_results: list[KeyResult] = field(default_factory=list)
    initiatives: list[Initiative] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    archived_left: int = 0
    finished_left: int = 0

    @property
    def days(self) -> int:
        return (self.target.start - self.original.cycle.start_date).days


def plan_copy(actor: Actor, objective: Objective, target: Target) -> CopyPlan:
    """The copy of `objective` into `target`, not saved, with its notes."""
    copy = Objective(
        cycle=target.cycle,
        team=objective.team,
        title=objective.title,
        description=objective.description,
        visibility=objective.visibility,
        priority=objective.priority,
        copied_from=objective,
    )
    plan = CopyPlan(objective, target, copy)
    copy.owner = _copy_owner(actor, objective, copy, plan.notes)
    copy.parent = _copy_parent(actor, objective, copy, target, plan.notes)

    key_results = objective.key_results.select_related("owner", "feed")
    for key_result in key_results.order_by("-is_headline", "position", "pk"):
        if key_result.archived:
            plan.archived_left += 1
        else:
            plan.key_results.append(key_result)
    initiatives = objective.initiatives.select_related("assignee", "key_result")
    for initiative in initiatives.order_by("position", "pk"):
        if initiative.state in FINISHED_INITIATIVES:
            plan.finished_left += 1
        else:
            plan.initiatives.append(initiative)

    _note_people_and_dates(plan)
    return plan


def _copy_owner(
    actor: Actor, objective: Objective, copy: Objective, notes: list[str]
) -> User:
    owner = objective.owner
    if not _can_carry(owner, copy):
        notes.append(f"You own the copy: {owner} can no longer take part in it.")
        return actor.user
    if not access.can_assign_owner(actor, objective.team_id, owner.pk):
        notes.append(
            f"You own the copy: in {objective.team} you can only make yourself "
            "the owner."
        )
        return actor.user
    return owner


def _can_carry(person: User | None, copy: Objective) -> bool:
    return (
        person is not None
        and person.is_active
        and participation.can_take_part(person, copy)
    )


def _copy_parent(
    actor: Actor,
    objective: Objective,
    copy: Objective,
    target: Target,
    notes: list[str],
) -> Objective | None:
    """The alignment the copy keeps, if it still fits the target cycle.

    A parent the actor cannot see is left out without a word, as it is on
    every page they see. One whose cycle covers the target is kept; else
    the parent's own copy in the target cycle, if there is one; else none.
    """
    if objective.parent_id is None:
        return None
    visible = access.visible_objectives(actor).select_related("cycle")
    parent = visible.filter(pk=objective.parent_id).first()
    if parent is None:
        return None
    name = quoted(parent.title)
    covers = parent.cycle.start_date <= target.start and parent.cycle.end_date >= (
        target.end
    )
    if covers and not parent.archived and _may_align(copy, parent):
        return parent
    if target.cycle is not None:
        carried = (
            visible.filter(copied_from=parent, cycle=target.cycle, archived=False)
            .order_by("pk")
            .first()
        )
        if carried is not None:
            notes.append(
                f"It is aligned to {quoted(carried.title)} in {target.label}, the "
                f"copy of {name}."
            )
            return carried
    why = "is archived" if parent.archived else f"is in {parent.cycle}"
    notes.append(
        f"It is no longer aligned to {name}: that objective {why}. Align the "
        "copy from its edit page if it contributes to another."
    )
    return None


def _may_align(copy: Objective, parent: Objective) -> bool:
    try:
        check_parent(copy, parent)
    except ValidationError:
        return False
    return True


def _note_people_and_dates(plan: CopyPlan) -> None:
    copy = plan.copy
    for key_result in plan.key_results:
        name = quoted(key_result.title)
        if not _can_carry(key_result.owner, copy):
            plan.notes.append(
                f"You own {name} in the copy: {key_result.owner} can no longer "
                "take part in it."
            )
        if key_result.due_date and shifted(plan, key_result.due_date) is None:
            plan.notes.append(
                f"{name} was due {format_day(key_result.due_date)}; {plan.days} "
                f"days later is outside {plan.target.label}, so the copy is due "
                "at the cycle end."
            )
    for initiative in plan.initiatives:
        name = quoted(initiative.title)
        if initiative.assignee and not _can_carry(initiative.assignee, copy):
            plan.notes.append(
                f"{name} is unassigned in the copy: {initiative.assignee} can no "
                "longer take part in it."
            )
        if initiative.due_date and shifted(plan, initiative.due_date) is None:
            plan.notes.append(
                f"{name} was due {format_day(initiative.due_date)}; {plan.days} "
                f"days later is outside {plan.target.label}, so the copy has no "
                "due date."
            )


def shifted(plan: CopyPlan, day: date | None) -> date | None:
    """A due date moved by the days between the cycle starts, if it still
    falls inside the target cycle; else None (cleared)."""
    if day is None:
        return None
    moved = day + timedelta(days=plan.days)
    return moved if plan.target.contains(moved) else None


class AlreadyCopied(Exception):
    """The cycle already holds a copy; another needs saying so."""

    def __init__(self, cycle: Cycle, copies: list[Objective]) -> None:
        self.cycle = cycle
        self.copies = copies
        super().__init__(
            f"It was copied into {cycle} already. Open that copy, or confirm "
            "that you want another."
        )


@dataclass(frozen=True)
class Copied:
    objective: Objective
    key_results: int
    initiatives: int
    notes: tuple[str, ...]
    opened: bool

    @property
    def message(self) -> str:
        original = self.objective.copied_from
        assert original is not None
        parts = [
            f"Copied {quoted(original.title)} into {self.objective.cycle} with "
            f"{counted(self.key_results, 'key result')} and "
            f"{counted(self.initiatives, 'initiative')}; no check-ins."
        ]
        if self.opened:
            parts.append(f"{self.objective.cycle} was opened for it.")
        return " ".join([*parts, *self.notes])


def duplicate_objective(
    actor: Actor,
    objective: Objective,
    target: Target,
    *,
    organisation: Organisation,
    today: date,
    again: bool = False,
) -> Copied:
    """Copy an objective into a later cycle, in one transaction.

    The next cycle is opened if `target` is the next one not opened yet.
    Refuses the objective's own cycle, an earlier or closed one, and
    (unless `again`) a cycle holding a copy already: AlreadyCopied.
    """
    access.require(can_duplicate(actor, objective))
    with transaction.atomic():
        original = _locked(Objective, objective.pk)
        opened = target.cycle is None
        cycle = target.cycle or _open_next(actor, original, organisation, today)
        _check_target(original, cycle)
        if not again:
            _refuse_second_copy(actor, original, cycle)
        plan = plan_copy(actor, original, Target.of(cycle))
        copy = _save_copy(actor, plan)
    logger.info(
        "objective %s copied to %s by user %s", objective.pk, copy.pk, actor.user.pk
    )
    return Copied(
        copy,
        len(plan.key_results),
        len(plan.initiatives),
        tuple(plan.notes),
        opened,
    )


def _open_next(
    actor: Actor, objective: Objective, organisation: Organisation, today: date
) -> Cycle:
    """The next cycle, opened now if need be, by those who may plan."""
    period = following_period(organisation, objective.cycle)
    if find_cycle(period) is None and not access.can_plan_cycles(actor):
        raise ValidationError(
            {
                "cycle": f"{period.label} is not open yet; a manager or "
                "administrator can open it from the cycles page."
            }
        )
    return next_cycle(organisation, objective.cycle, today)


def _check_target(objective: Objective, cycle: Cycle) -> None:
    if cycle.pk == objective.cycle_id:
        raise ValidationError(
            {
                "cycle": f"{quoted(objective.title)} is in {cycle} already; pick "
                "a later cycle to carry it over to."
            }
        )
    if cycle.start_date <= objective.cycle.start_date:
        raise ValidationError(
            {
                "cycle": f"{cycle} does not start after {objective.cycle}; an "
                "objective is carried over to a later cycle."
            }
        )


def _refuse_second_copy(actor: Actor, objective: Objective, cycle: Cycle) -> None:
    """Ask before a second copy into one cycle. Copies the actor cannot see
    do not count: they are not there for them."""
    copies = access.visible_objectives(actor).filter(copied_from=objective, cycle=cycle)
    if copies.exists():
        raise AlreadyCopied(cycle, list(copies.order_by("pk")))


def _save_copy(actor: Actor, plan: CopyPlan) -> Objective:
    user = actor.user
    original = plan.original
    reason = f"Copied from {quoted(original.title)} ({original.cycle})"
    copy = plan.copy
    check_objective(user, copy)
    attribute(copy, user, reason)
    copy.save()

    copies: dict[int, KeyResult] = {}
    for key_result in plan.key_results:
        carried = _copy_key_result(key_result, copy, plan, user)
        attribute(carried, user, reason)
        carried.save()
        copies[key_result.pk] = carried
        _copy_feed(key_result, carried, user)

    for initiative in plan.initiatives:
        carried_initiative = _copy_initiative(initiative, copy, copies, plan)
        _checked(carried_initiative, check_initiative)
        attribute(carried_initiative, user, reason)
        carried_initiative.save()
    return copy


def _copy_key_result(
    key_result: KeyResult, copy: Objective, plan: CopyPlan, user: User
) -> KeyResult:
    owner = key_result.owner if _can_carry(key_result.owner, copy) else user
    carried = KeyResult(
        objective=copy,
        title=key_result.title,
        owner=owner,
        definition=key_result.definition,
        kind=key_result.kind,
        unit=key_result.unit,
        currency_code=key_result.currency_code,
        unit_label=key_result.unit_label,
        start_value=key_result.start_value,
        target_value=key_result.target_value,
        target_mode=key_result.target_mode,
        target_change=key_result.target_change,
        due_date=shifted(plan, key_result.due_date),
        weight=key_result.weight,
        position=key_result.position,
        is_headline=key_result.is_headline,
    )
    _checked(carried, check_key_result)
    return carried


def _copy_feed(key_result: KeyResult, carried: KeyResult, user: User) -> None:
    feed = KeyResultFeed.objects.filter(key_result=key_result).first()
    if feed is None:
        return
    KeyResultFeed.objects.create(
        key_result=carried,
        source_id=feed.source_id,
        payments_source_id=feed.payments_source_id,
        kpi=feed.kpi,
        settings=feed.settings,
        segments=feed.segments,
        products=feed.products,
        grain=feed.grain,
        baseline_from_data=feed.baseline_from_data,
        created_by=user,
    )


def _copy_initiative(
    initiative: Initiative,
    copy: Objective,
    key_results: dict[int, KeyResult],
    plan: CopyPlan,
) -> Initiative:
    assignee = initiative.assignee
    return Initiative(
        objective=copy,
        key_result=key_results.get(initiative.key_result_id or 0),
        title=initiative.title,
        description=initiative.description,
        assignee=assignee if _can_carry(assignee, copy) else None,
        priority=initiative.priority,
        state=initiative.state,
        due_date=shifted(plan, initiative.due_date),
        position=initiative.position,
    )


def _checked[M: (KeyResult, Initiative)](item: M, check: Any) -> None:
    """Run a service check on a copied item, naming the item if it fails."""
    try:
        check(item)
    except ValidationError as error:
        raise ValidationError(
            f"{quoted(item.title)} could not be copied: {' '.join(error.messages)}"
        ) from error


def lineage(
    actor: Actor, objective: Objective
) -> tuple[Objective | None, list[Objective]]:
    """The original this objective was copied from and the copies made of
    it, each only if the actor may see it."""
    related = Q(copied_from=objective)
    if objective.copied_from_id is not None:
        related |= Q(pk=objective.copied_from_id)
    found = (
        access.visible_objectives(actor)
        .filter(related)
        .select_related("cycle")
        .order_by("cycle__start_date", "pk")
    )
    origin = None
    copies = []
    for other in found:
        if other.pk == objective.copied_from_id:
            origin = other
        else:
            copies.append(other)
    return origin, copies
