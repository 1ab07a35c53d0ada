"""Who may read, write and change comments; whose notifications are listed.

A thread is fetched through the object it discusses, with the OKR access
helpers: hidden means 404, exactly as for the object. Anyone who may see an
objective may comment on it, read-only viewers included (senior management
asks questions); people edit only their own comments, and remove their own
or, as administrators, anyone's.

Notifications are listed and counted only while their objective is visible
to the recipient, so one about an objective that later became team-only,
or whose team the person left, disappears rather than naming it.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse

from creditokr.collab.models import Comment, Notification
from creditokr.okrs.access import (
    Actor,
    as_id,
    get_key_result,
    get_objective,
    visibility_filter,
    visible_check_ins,
)
from creditokr.okrs.models import CheckIn, KeyResult, Objective


@dataclass(frozen=True)
class Thread:
    """The comments about one objective, key result or check-in."""

    objective: Objective
    key_result: KeyResult | None = None
    check_in: CheckIn | None = None

    @property
    def comments(self) -> QuerySet[Comment]:
        return Comment.objects.filter(
            objective=self.objective,
            key_result=self.key_result,
            check_in=self.check_in,
        )

    @property
    def dom_id(self) -> str:
        if self.check_in is not None:
            return f"thread-check-in-{self.check_in.pk}"
        if self.key_result is not None:
            return f"thread-key-result-{self.key_result.pk}"
        return f"thread-objective-{self.objective.pk}"

    @property
    def url(self) -> str:
        return thread_url(
            self.objective.pk,
            self.key_result.pk if self.key_result is not None else None,
            self.check_in.pk if self.check_in is not None else None,
        )

    @property
    def about(self) -> str:
        """What the thread discusses, in words."""
        if self.check_in is not None:
            day = f"{self.check_in.as_of.day} {self.check_in.as_of:%b %Y}"
            return f"the check-in of {day} on “{self.check_in.key_result.title}”"
        if self.key_result is not None:
            return f"key result “{self.key_result.title}”"
        return f"objective “{self.objective.title}”"


def thread_of(comment: Comment) -> Thread:
    """The thread `comment` is in (its objective, key result and check-in
    are loaded with it by `get_comment`)."""
    return Thread(comment.objective, comment.key_result, comment.check_in)


def thread_url(
    objective_id: int, key_result_id: int | None, check_in_id: int | None
) -> str:
    if check_in_id is not None:
        return reverse("check_in_comments", args=[check_in_id])
    if key_result_id is not None:
        return reverse("key_result_comments", args=[key_result_id])
    return reverse("objective_comments", args=[objective_id])


def comment_url(comment: Comment) -> str:
    """The comment in its thread's page (from ids: no queries)."""
    url = thread_url(comment.objective_id, comment.key_result_id, comment.check_in_id)
    return f"{url}#comment-{comment.pk}"


def objective_thread(actor: Actor, pk: Any) -> Thread:
    return Thread(get_objective(actor, pk))


def key_result_thread(actor: Actor, pk: Any) -> Thread:
    key_result = get_key_result(actor, pk)
    return Thread(key_result.objective, key_result)


def check_in_thread(actor: Actor, pk: Any) -> Thread:
    number = as_id(pk)
    found = None
    if number is not None:
        check_ins = visible_check_ins(actor).select_related(
            "key_result__objective__cycle",
            "key_result__objective__team",
            "key_result__objective__owner",
        )
        found = check_ins.filter(pk=number).first()
    if found is None:
        raise Http404("No such item, or it is not shared with you.")
    return Thread(found.key_result.objective, found.key_result, found)


def get_comment(actor: Actor, pk: Any) -> Comment:
    number = as_id(pk)
    comments = Comment.objects.filter(visibility_filter(actor, "objective__"))
    found = None
    if number is not None:
        found = (
            comments.select_related(
                "author", "objective", "key_result", "check_in__key_result"
            )
            .filter(pk=number)
            .first()
        )
    if found is None:
        raise Http404("No such comment, or it is not shared with you.")
    return found


def can_edit_comment(actor: Actor, comment: Comment) -> bool:
    return not comment.is_removed and comment.author_id == actor.user.pk


def can_remove_comment(actor: Actor, comment: Comment) -> bool:
    if comment.is_removed:
        return False
    return comment.author_id == actor.user.pk or actor.is_admin


def visible_notifications(actor: Actor) -> QuerySet[Notification]:
    """The actor's notifications about objectives they may see now."""
    mine = Notification.objects.filter(recipient_id=actor.user.pk)
    return mine.filter(visibility_filter(actor, "objective__"))


def unread_count(actor: Actor) -> int:
    """One COUNT on the (recipient, read_at) index."""
    return visible_notifications(actor).filter(read_at__isnull=True).count()


def notification_url(notification: Notification) -> str:
    """Where a notification takes its reader."""
    if notification.comment is not None:
        return comment_url(notification.comment)
    url = reverse("objective_detail", args=[notification.objective_id])
    if notification.key_result_id is not None:
        return f"{url}#kr-{notification.key_result_id}"
    return url
