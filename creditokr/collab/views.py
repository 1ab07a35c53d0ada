"""Comment threads, following an objective, and the notifications page.

Every thread is fetched through the object it discusses (`collab.access`,
which uses the OKR access helpers): hidden is a 404. Writes go through
`collab.services`.

htmx rule, as on the OKR pages: an htmx request that is not boosted gets
the part of the page it swaps (always with status 200, input errors
included, so htmx swaps them in), anything else the whole page, or a
redirect after a change. The objective page loads its discussion lazily:
that request targets `#comments` and gets the objective's thread with the
comment counts of its key results and check-ins, counted there so the
objective page itself runs no extra query for them.
"""

from http import HTTPStatus
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from creditokr.collab import services
from creditokr.collab.access import (
    Thread,
    can_edit_comment,
    can_remove_comment,
    check_in_thread,
    comment_url,
    get_comment,
    key_result_thread,
    notification_url,
    objective_thread,
    thread_of,
    visible_notifications,
)
from creditokr.collab.forms import CommentForm
from creditokr.collab.models import Comment
from creditokr.okrs.access import (
    Actor,
    actor_for,
    as_id,
    get_objective,
    require,
    visible_key_results,
)
from creditokr.okrs.htmx import PageRequest, render_partial_or_page, wants_partial

GET_OR_POST = require_http_methods(["GET", "POST"])
PER_PAGE = 50
LAZY_TARGET = "comments"


# Threads


@GET_OR_POST
def objective_comments(request: PageRequest, pk: int) -> HttpResponse:
    actor = actor_for(request.user)
    return _thread(request, actor, objective_thread(actor, pk))


@GET_OR_POST
def key_result_comments(request: PageRequest, pk: int) -> HttpResponse:
    actor = actor_for(request.user)
    return _thread(request, actor, key_result_thread(actor, pk))


@GET_OR_POST
def check_in_comments(request: PageRequest, pk: int) -> HttpResponse:
    actor = actor_for(request.user)
    return _thread(request, actor, check_in_thread(actor, pk))


def _thread(request: PageRequest, actor: Actor, thread: Thread) -> HttpResponse:
    """Show a thread, or add the comment posted to it."""
    if request.method != "POST":
        return _show_thread(request, actor, thread, CommentForm(auto_id=_ids(thread)))

    form = CommentForm(request.POST, auto_id=_ids(thread))
    if form.is_valid():
        try:
            comment = services.post_comment(
                actor.user, thread, form.cleaned_data["body"], submission=form.token
            )
        except ValidationError as error:
            form.add_error("body", error.message_dict.get("body", error.messages))
        else:
            if wants_partial(request):
                fresh = CommentForm(auto_id=_ids(thread))
                return _show_thread(request, actor, thread, fresh)
            messages.success(request, "Your comment is posted.")
            return redirect(comment_url(comment))
    return _show_thread(request, actor, thread, form, status=HTTPStatus.BAD_REQUEST)


def _show_thread(
    request: PageRequest,
    actor: Actor,
    thread: Thread,
    form: CommentForm,
    *,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    context = _thread_context(actor, thread, form)
    lazy = wants_partial(request) and request.htmx.target == LAZY_TARGET
    whole_objective = thread.key_result is None and (lazy or not wants_partial(request))
    if whole_objective:
        context |= _discussion_counts(actor, thread, with_check_ins=lazy)
    partial = "collab/discussion.html" if lazy else "collab/thread.html"
    return render_partial_or_page(
        request, "collab/thread_page.html", partial, context, status=status
    )


def _thread_context(actor: Actor, thread: Thread, form: CommentForm) -> dict[str, Any]:
    comments = list(thread.comments.select_related("author"))
    _mark_permissions(actor, comments)
    return {
        "thread": thread,
        "objective": thread.objective,
        "comments": comments,
        "form": form,
    }


def _mark_permissions(actor: Actor, comments: list[Comment]) -> None:
    """Say on each comment whether this actor may edit or remove it."""
    for comment in comments:
        comment.can_edit = can_edit_comment(actor, comment)  # type: ignore[attr-defined]
        comment.can_remove = can_remove_comment(actor, comment)  # type: ignore[attr-defined]


def _discussion_counts(
    actor: Actor, thread: Thread, *, with_check_ins: bool
) -> dict[str, Any]:
    """How many comments each live key result has, and (for the objective
    page, which shows each check-in's count in place) each check-in."""
    live = Q(comments__removed_at__isnull=True)
    key_results = (
        visible_key_results(actor)
        .filter(objective=thread.objective, archived=False)
        .annotate(
            comment_count=Count(
                "comments", filter=live & Q(comments__check_in__isnull=True)
            )
        )
        .order_by("-is_headline", "position", "pk")
    )
    context: dict[str, Any] = {"key_results": key_results}
    if with_check_ins:
        counts = (
            Comment.objects.filter(
                objective=thread.objective,
                check_in__isnull=False,
                key_result__archived=False,
                removed_at__isnull=True,
            )
            .values_list("check_in")
            .annotate(count=Count("pk"))
            .order_by()
        )
        context["check_in_counts"] = sorted(counts)
    return context


def _ids(thread: Thread) -> str:
    """Each thread's form has its own element ids on a page of threads."""
    return f"{thread.dom_id}-%s"


# One comment


@GET_OR_POST
def comment_edit(request: PageRequest, pk: int) -> HttpResponse:
    actor = actor_for(request.user)
    comment = get_comment(actor, pk)
    require(can_edit_comment(actor, comment))
    thread = thread_of(comment)
    ids = f"comment-{comment.pk}-%s"
    form = CommentForm(
        request.POST if request.method == "POST" else None,
        initial={"body": comment.body},
        new=False,
        auto_id=ids,
    )
    status = HTTPStatus.OK
    if request.method == "POST":
        if form.is_valid():
            try:
                changed = services.edit_comment(
                    actor.user, comment, form.cleaned_data["body"]
                )
            except ValidationError as error:
                form.add_error("body", error.message_dict.get("body", error.messages))
            else:
                if wants_partial(request):
                    _mark_permissions(actor, [comment])
                    context = {"comment": comment, "thread": thread}
                    return render(request, "collab/comment.html", context)
                if changed:
                    messages.success(request, "Your comment is updated.")
                return redirect(comment_url(comment))
        status = HTTPStatus.BAD_REQUEST

    context = {"comment": comment, "thread": thread, "objective": thread.objective}
    context["form"] = form
    return render_partial_or_page(
        request,
        "collab/comment_edit_page.html",
        "collab/comment_edit.html",
        context,
        status=status,
    )


@require_POST
def comment_delete(request: PageRequest, pk: int) -> HttpResponse:
    actor = actor_for(request.user)
    comment = get_comment(actor, pk)
    require(can_remove_comment(actor, comment))
    thread = thread_of(comment)
    services.remove_comment(actor.user, comment)
    if wants_partial(request):
        context = _thread_context(actor, thread, CommentForm(auto_id=_ids(thread)))
        return render(request, "collab/thread.html", context)
    messages.success(request, "The comment is removed.")
    return redirect(thread.url)


# Following


@require_POST
def objective_follow(request: PageRequest, pk: int) -> HttpResponse:
    actor = actor_for(request.user)
    objective = get_objective(actor, pk)
    action = request.POST.get("action", "")
    if action == "follow":
        services.follow(actor.user, objective)
        message = "You follow this objective: you will be told of its news."
    elif action == "unfollow":
        services.unfollow(actor.user, objective)
        message = "You no longer follow this objective."
    else:
        return HttpResponse(
            "Say whether to follow or unfollow.", status=HTTPStatus.BAD_REQUEST
        )
    if wants_partial(request):
        return render(request, "collab/follow_button.html", {"objective": objective})
    messages.success(request, message)
    return redirect("objective_detail", objective.pk)


# Notifications


@require_http_methods(["GET"])
def notifications(request: PageRequest) -> HttpResponse:
    actor = actor_for(request.user)
    listed = visible_notifications(actor).select_related(
        "actor", "objective", "comment"
    )
    page = Paginator(listed, PER_PAGE).get_page(request.GET.get("page"))
    rows = [(notification, notification_url(notification)) for notification in page]
    context = {"page": page, "rows": rows}
    return render(request, "collab/notifications.html", context)


@require_POST
def notifications_read(request: PageRequest) -> HttpResponse:
    """Mark one notification read (and open it, with `go`), or all of them."""
    actor = actor_for(request.user)
    visible = visible_notifications(actor)
    if request.POST.get("all"):
        count = services.mark_read(visible)
        messages.success(request, f"Marked {count} as read.")
        return redirect("notifications")

    number = as_id(request.POST.get("notification"))
    found = None if number is None else visible.filter(pk=number)
    notification = None if found is None else found.select_related("comment").first()
    if notification is None:
        raise Http404("No such notification.")
    services.mark_read(visible.filter(pk=notification.pk))
    if request.POST.get("go"):
        return redirect(notification_url(notification))
    return redirect(_back_to_list(request))


def _back_to_list(request: PageRequest) -> str:
    url = reverse("notifications")
    page = as_id(request.POST.get("page"))
    return f"{url}?page={page}" if page and page > 1 else url
