"""Where an objective and one of its key results stand, as the board shows.

A check-in's row in the history keeps both statuses from just before and
just after it, so a notification can say "now at risk (was on track)"
without working anything out again. The figures follow `okrs.board`: the
latest check-in of each live key result, the organisation's tolerances and
today in its time zone, a status set by hand or a template's starting
status where there is one.

An objective being checked in on has a live key result, so its status comes
from its key results and never from aligned objectives (which only count
for an objective without key results); who is looking therefore makes no
difference, and none is asked for. Two queries per call.
"""

from creditokr.accounts.models import Organisation
from creditokr.cycles.fiscal import local_today
from creditokr.okrs.board import ObjectiveCard, key_result_card, key_results_with_latest
from creditokr.okrs.models import CheckIn, KeyResult
from creditokr.okrs.progress import Status, worst_status


def board_statuses(key_result: KeyResult, organisation: Organisation) -> dict[str, str]:
    """{"objective": ..., "key_result": ...} in the board's status words."""
    objective = key_result.objective
    today = local_today(organisation.zone)
    live = list(key_results_with_latest().filter(objective_id=objective.pk))
    ids = [kr.latest_check_in_id for kr in live if kr.latest_check_in_id]  # type: ignore[attr-defined]
    latest = {c.key_result_id: c for c in CheckIn.objects.filter(pk__in=ids)}
    cards = [
        key_result_card(kr, latest.get(kr.pk), objective, organisation, today)
        for kr in live
    ]
    card = ObjectiveCard(objective, cards)
    # As the board rolls up: a weight of 0 leaves a key result out, unless
    # every key result weighs nothing.
    counted = [c for c in cards if c.key_result.weight > 0] or cards
    if counted:
        card.computed_status = worst_status(c.status for c in counted)
    own = next(
        (c.status for c in cards if c.key_result.pk == key_result.pk),
        Status.NOT_STARTED,
    )
    return {"objective": str(card.status), "key_result": str(own)}
