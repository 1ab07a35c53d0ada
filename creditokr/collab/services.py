"""The named operations on comments, follows and notifications.

Every comment is written here: posted, edited or removed. Each checks its
input before it writes, so a refused comment changes nothing.

Posting renders the Markdown once (`rendering`) with the people who may be
mentioned: active, and allowed to see the objective. Those mentioned are
told in the app and by email (`reminders.delivery.enqueue`, kind
"mention", which follows their notification choices); the objective's
followers are told there is a new comment. Editing tells only people
mentioned for the first time. Nobody is told about their own comment.

Removing a comment that others answered after it leaves a "comment
removed" marker in its place, so the conversation still reads in order;
the last comment of a thread simply goes (with any markers left dangling
before it). Either way its text is gone, and so are the notifications and
unsent emails about it.
"""

import logging
from collections.abc import Set

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from creditokr.accounts.models import User
from creditokr.activity.models import ChangeRecord
from creditokr.activity.recording import record
from creditokr.collab.access import Thread, comment_url
from creditokr.collab.audience import followers, may_see, who_may_see
from creditokr.collab.models import Comment, Follow, Notification, NotificationKind
from creditokr.collab.notify import notify
from creditokr.collab.rendering import mention_candidates, render
from creditokr.okrs.models import Objective
from creditokr.okrs.wording import quoted
from creditokr.reminders.compose import absolute, unsubscribe_url
from creditokr.reminders.delivery import enqueue
from creditokr.reminders.models import Delivery, Kind
from creditokr.reminders.models import Status as DeliveryStatus

logger = logging.getLogger(__name__)

MAX_LENGTH = 10_000
EMPTY = "Write something first."
TOO_LONG = f"Keep a comment under {MAX_LENGTH:,} characters; this one has {{n:,}}."


# Comments


def post_comment(
    user: User, thread: Thread, body: str, *, submission: str = ""
) -> Comment:
    """Add a comment to `thread`, telling those mentioned and the followers.

    A form sent twice with the same one-time `submission` token makes one
    comment; the second call returns the first one's comment.
    """
    body = _checked(body)
    _check_may_see(user, thread.objective)
    earlier = _earlier(user, submission)
    if earlier is not None:
        return earlier

    people = _mentionable(thread.objective, body)
    rendered = render(body, people)
    comment = Comment(
        objective=thread.objective,
        key_result=thread.key_result,
        check_in=thread.check_in,
        author=user,
        body=body,
        body_html=rendered.html,
        submission=submission or None,
    )
    try:
        with transaction.atomic():
            comment.save()
            # In the history and feed (without its text), and so to open pages.
            record(comment, user, {}, action=ChangeRecord.Action.CREATE)
            comment.mentions.set(rendered.mentioned)
            mentioned = _tell_mentioned(comment, thread, people, rendered.mentioned)
            _tell_followers(comment, thread, leaving_out={user.pk, *mentioned})
    except IntegrityError:
        earlier = _earlier(user, submission)
        if earlier is None:
            raise
        return earlier
    logger.info("comment %s posted by user %s", comment.pk, user.pk)
    return comment


def edit_comment(user: User, comment: Comment, body: str) -> bool:
    """Change a comment's text; True if it changed.

    People mentioned for the first time are told; nobody else is.
    """
    if comment.author_id != user.pk:
        raise PermissionDenied("Only its author can edit a comment.")
    if comment.is_removed:
        raise ValidationError("This comment was removed; it cannot be edited.")
    body = _checked(body)
    if body == comment.body:
        return False

    thread = Thread(comment.objective, comment.key_result, comment.check_in)
    people = _mentionable(comment.objective, body)
    rendered = render(body, people)
    with transaction.atomic():
        before = set(comment.mentions.values_list("pk", flat=True))
        comment.body, comment.body_html = body, rendered.html
        comment.edited_at = timezone.now()
        comment.save(update_fields=["body", "body_html", "edited_at"])
        comment.mentions.set(rendered.mentioned)
        told = set(
            Notification.objects.filter(
                comment=comment, kind=NotificationKind.MENTION
            ).values_list("recipient", flat=True)
        )
        new = rendered.mentioned - before - told
        _tell_mentioned(comment, thread, people, new)
    logger.info("comment %s edited by user %s", comment.pk, user.pk)
    return True


def remove_comment(user: User, comment: Comment) -> bool:
    """Take a comment away; True if a "comment removed" marker stays.

    Callers check who may (the author, or an administrator).
    """
    if comment.is_removed:
        raise ValidationError("This comment was already removed.")
    thread = Thread(comment.objective, comment.key_result, comment.check_in)
    with transaction.atomic():
        _cancel_emails(comment)
        answered = thread.comments.filter(
            Q(created_at__gt=comment.created_at)
            | Q(created_at=comment.created_at, pk__gt=comment.pk)
        ).exists()
        if answered:
            comment.notifications.all().delete()
            comment.mentions.clear()
            comment.body = comment.body_html = ""
            comment.removed_at = timezone.now()
            comment.save(update_fields=["body", "body_html", "removed_at"])
        else:
            comment.delete()
            _drop_trailing_markers(thread)
    logger.info("comment %s removed by user %s", comment.pk, user.pk)
    return answered


def _checked(body: str) -> str:
    body = body.strip()
    if not body:
        raise ValidationError({"body": EMPTY})
    if len(body) > MAX_LENGTH:
        raise ValidationError({"body": TOO_LONG.format(n=len(body))})
    return body


def _check_may_see(user: User, objective: Objective) -> None:
    if not may_see(user, objective):
        raise PermissionDenied("This objective is not shared with you.")


def _earlier(user: User, submission: str) -> Comment | None:
    if not submission:
        return None
    return Comment.objects.filter(submission=submission, author=user).first()


def _mentionable(objective: Objective, body: str) -> dict[str, User]:
    """Whom `body` may mention by username: active, seeing `objective`."""
    names = mention_candidates(body)
    if not names:
        return {}
    found = User.objects.filter(username__in=names, is_active=True)
    return {person.username: person for person in who_may_see(found, objective)}


def _drop_trailing_markers(thread: Thread) -> None:
    """A marker stands for a comment others answered; with no answer left
    after it, it goes too."""
    for comment in thread.comments.order_by("-created_at", "-pk"):
        if not comment.is_removed:
            return
        comment.delete()


def _cancel_emails(comment: Comment) -> None:
    Delivery.objects.filter(
        kind=Kind.MENTION,
        occurrence=_occurrence(comment),
        status=DeliveryStatus.PENDING,
    ).update(status=DeliveryStatus.SKIPPED, last_error="The comment was removed.")


# Telling people


def _tell_mentioned(
    comment: Comment,
    thread: Thread,
    people: dict[str, User],
    ids: Set[int],
) -> set[int]:
    """Notify and email the people newly mentioned; returns who was told."""
    author = comment.author
    recipients = [p for p in people.values() if p.pk in ids and p.pk != author.pk]
    text = f"{author} mentioned you in a comment on {_where(thread)}"
    notify(
        recipients,
        NotificationKind.MENTION,
        thread.objective,
        text,
        actor=author,
        key_result=thread.key_result,
        comment=comment,
    )
    for recipient in recipients:
        _email_mention(recipient, comment, thread)
    return {recipient.pk for recipient in recipients}


def _tell_followers(comment: Comment, thread: Thread, leaving_out: set[int]) -> None:
    text = f"{comment.author} commented on {_where(thread)}"
    notify(
        followers(thread.objective, leaving_out=leaving_out),
        NotificationKind.COMMENT,
        thread.objective,
        text,
        actor=comment.author,
        key_result=thread.key_result,
        comment=comment,
    )


def _where(thread: Thread) -> str:
    objective = quoted(thread.objective.title)
    if thread.check_in is not None:
        return f"a check-in of {quoted(thread.check_in.key_result.title)} ({objective})"
    if thread.key_result is not None:
        return f"key result {quoted(thread.key_result.title)} ({objective})"
    return objective


def _occurrence(comment: Comment) -> str:
    return f"comment-{comment.pk}"


def _email_mention(recipient: User, comment: Comment, thread: Thread) -> None:
    unsubscribe = unsubscribe_url(recipient.pk, Kind.MENTION)
    context = {
        "person": recipient,
        "author": comment.author,
        "comment": comment,
        "where": _where(thread),
        "url": absolute(comment_url(comment)),
        "site_url": settings.SITE_URL,
        "unsubscribe_url": unsubscribe,
        "preferences_url": absolute(reverse("notification_preferences")),
    }
    subject = f"{comment.author} mentioned you on {quoted(thread.objective.title)}"
    enqueue(
        recipient,
        Kind.MENTION,
        occurrence=_occurrence(comment),
        subject=subject,
        text=render_to_string("collab/email/mention.txt", context),
        html=render_to_string("collab/email/mention.html", context),
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


# Follows


def follow(user: User, objective: Objective) -> bool:
    """Hear about `objective`; False if already following."""
    _check_may_see(user, objective)
    _, created = Follow.objects.get_or_create(user=user, objective=objective)
    return created


def unfollow(user: User, objective: Objective) -> bool:
    """Stop hearing about `objective` (unless one owns something in it)."""
    deleted, _ = Follow.objects.filter(user=user, objective=objective).delete()
    return deleted > 0


# Notifications


def mark_read(notifications: QuerySet[Notification]) -> int:
    """Mark the unread ones of `notifications` read; returns how many."""
    return notifications.filter(read_at__isnull=True).update(read_at=timezone.now())
