"""Moving a cycle between states, as the cycle page offers and words it.

Managers and administrators move a cycle on one state at a time; only
administrators step it back, which for a closed cycle is reopening it. The
page asks before every step and says what the step means.
"""

from dataclasses import dataclass

from creditokr.accounts.models import User
from creditokr.cycles import services
from creditokr.cycles.models import Cycle, CycleState
from creditokr.okrs import access
from creditokr.okrs.access import Actor


@dataclass(frozen=True)
class StateMove:
    """One step of a cycle's state, as its button and confirmation put it."""

    cycle: Cycle
    to_state: CycleState
    back: bool

    @property
    def closes(self) -> bool:
        return self.to_state == CycleState.CLOSED

    @property
    def reopens(self) -> bool:
        """Stepping back from closed, the one step that lands in review."""
        return self.back and self.to_state == CycleState.IN_REVIEW

    @property
    def button(self) -> str:
        if self.closes:
            return "Close the cycle"
        if self.reopens:
            return "Reopen"
        direction = "Back to" if self.back else "Move to"
        return f"{direction} {self.to_state.label.lower()}"

    @property
    def question(self) -> str:
        cycle, state = self.cycle, self.to_state.label.lower()
        if self.closes:
            return f"Close {cycle}?"
        if self.reopens:
            return f"Reopen {cycle}? It goes back to {state}."
        return f"Move {cycle} {'back ' if self.back else ''}to {state}?"

    @property
    def short_question(self) -> str:
        """The question with, for closing, what it means in one line."""
        if self.closes:
            return (
                f"{self.question} No new objectives, template loading or "
                "rescheduling after this; late check-ins are still allowed."
            )
        return self.question

    @property
    def consequences(self) -> list[str]:
        if self.closes:
            return [
                "No new objectives can be added to it or moved into it.",
                "Templates can no longer be loaded into it.",
                "Its meetings can no longer be rescheduled.",
                "It leaves My work, and the dashboard no longer opens on it.",
                "Late check-ins are still allowed, so owners can record where "
                "their key results ended.",
                "An administrator can reopen it.",
            ]
        if self.reopens:
            return [
                "Objectives can be added to it or moved into it again.",
                "Templates can be loaded into it and its meetings rescheduled.",
                "It shows in My work again.",
            ]
        return [
            "Only its state changes; objectives, key results, check-ins and "
            "meetings stay as they are."
        ]


def state_moves(actor: Actor, cycle: Cycle) -> list[StateMove]:
    """The steps this actor may take from the cycle's page."""
    moves = []
    following = services.following_state(cycle)
    if access.can_plan_cycles(actor) and following is not None:
        moves.append(StateMove(cycle, following, back=False))
    previous = services.previous_state(cycle)
    if actor.is_admin and previous is not None:
        moves.append(StateMove(cycle, previous, back=True))
    return moves


def checked_move(cycle: Cycle, to_state: str, back: bool) -> StateMove:
    """The step to `to_state`, if it is one; raises ValidationError if not."""
    check = services.check_reopen if back else services.check_advance
    return StateMove(cycle, check(cycle, to_state), back)


def make(move: StateMove, user: User | None = None) -> None:
    """Take the step, once, however many people ask for it at the same time."""
    if move.back:
        services.reopen_cycle(move.cycle, move.to_state, user)
    else:
        services.advance_cycle_state(move.cycle, move.to_state, user)


def moved_message(move: StateMove) -> str:
    """What the person is told once the step is taken."""
    cycle, state = move.cycle, move.to_state.label.lower()
    if not move.back:
        return f"{cycle} is now {state}."
    if move.reopens:
        return f"Reopened {cycle}; it is {state} again."
    return f"{cycle} is {state} again."
