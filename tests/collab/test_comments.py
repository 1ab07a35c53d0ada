"""Comments: posting, mentions, editing, removing, and who may do what."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from creditokr.collab import services
from creditokr.collab.access import Thread
from creditokr.collab.models import Comment, NotificationKind
from creditokr.okrs.services import record_check_in
from creditokr.reminders.models import Delivery, Preference
from tests.collab.conftest import notes

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def thread_url(objective) -> str:
    return reverse("objective_comments", args=[objective.pk])


def post(client, url, body, **extra):
    return client.post(url, {"body": body, **extra})


# Posting


def test_a_viewer_comments_and_the_owner_is_told(client, people, public_objective):
    client.force_login(people["viewer"])

    response = post(client, thread_url(public_objective), "Why **so** slow?")

    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == (
        f"/objectives/{public_objective.pk}/comments/#comment-{comment.pk}"
    )
    assert comment.author == people["viewer"]
    assert comment.body == "Why **so** slow?"
    assert comment.body_html == "<p>Why <strong>so</strong> slow?</p>\n"
    [told] = notes(people["member"])
    assert told.kind == NotificationKind.COMMENT
    assert told.text == "Viewer commented on “Reduce 30+ delinquency”"
    assert told.comment == comment
    assert notes(people["viewer"]) == []


def test_a_mention_tells_the_person_in_the_app_and_by_email(people, public_objective):
    comment = services.post_comment(
        people["member"], Thread(public_objective), "@manager can you *check* this?"
    )

    [told] = notes(people["manager"])
    assert told.kind == NotificationKind.MENTION
    assert told.text == (
        "Member mentioned you in a comment on “Reduce 30+ delinquency”"
    )
    assert comment.body_html == (
        '<p><span class="mention" title="Manager">@manager</span> can you '
        "<em>check</em> this?</p>\n"
    )
    [email] = Delivery.objects.filter(recipient=people["manager"])
    assert (email.kind, email.occurrence, email.channel, email.status) == (
        "mention",
        f"comment-{comment.pk}",
        "email",
        "pending",
    )
    assert email.subject == "Member mentioned you on “Reduce 30+ delinquency”"
    link = (
        f"http://okr.example.test/objectives/{public_objective.pk}/comments/"
        f"#comment-{comment.pk}"
    )
    assert "@manager can you *check* this?" in email.text
    assert f"Read it and answer: {link}" in email.text
    assert "<em>check</em>" in email.html
    assert email.headers["List-Unsubscribe"].startswith("<http://okr.example.test/")
    # The owner is the author: told nothing about their own comment.
    assert notes(people["member"]) == []


def test_a_mention_email_follows_the_persons_choices(people, public_objective):
    Preference.objects.create(user=people["manager"], kind="mention", enabled=False)

    services.post_comment(people["member"], Thread(public_objective), "@manager hi")

    [email] = Delivery.objects.filter(recipient=people["manager"])
    assert email.status == "skipped"
    assert email.last_error == "The person unsubscribed from this kind of message."
    assert len(notes(people["manager"], kind=NotificationKind.MENTION)) == 1


def test_mentioning_oneself_tells_nobody(people, public_objective):
    comment = services.post_comment(
        people["member"], Thread(public_objective), "note to @member"
    )

    assert "mention" in comment.body_html
    assert notes(people["member"]) == []
    assert not Delivery.objects.exists()


def test_someone_who_cannot_see_the_objective_is_not_mentioned(
    people, private_objective, django_user_model
):
    gone = django_user_model.objects.create_user("gone", is_active=False)
    gone.memberships.create(team=private_objective.team, role="member")

    comment = services.post_comment(
        people["member"],
        Thread(private_objective),
        "@outsider @gone and @manager: limits?",
    )

    assert comment.body_html == (
        '<p>@outsider @gone and <span class="mention" title="Manager">@manager'
        "</span>: limits?</p>\n"
    )
    assert set(comment.mentions.all()) == {people["manager"]}
    assert notes(people["outsider"]) == []
    assert notes(gone) == []
    assert not Delivery.objects.filter(recipient__in=[people["outsider"], gone])
    assert [n.kind for n in notes(people["manager"])] == [NotificationKind.MENTION]


def test_editing_tells_only_people_mentioned_for_the_first_time(
    client, people, public_objective
):
    comment = services.post_comment(
        people["member"], Thread(public_objective), "@manager first"
    )
    client.force_login(people["member"])
    url = reverse("comment_edit", args=[comment.pk])

    client.post(url, {"body": "@manager and @viewer"})
    client.post(url, {"body": "@viewer and @manager, again"})

    comment.refresh_from_db()
    assert comment.body == "@viewer and @manager, again"
    assert comment.edited_at is not None
    assert len(notes(people["manager"])) == 1
    assert [n.kind for n in notes(people["viewer"])] == [NotificationKind.MENTION]
    assert Delivery.objects.filter(recipient=people["manager"]).count() == 1
    assert Delivery.objects.filter(recipient=people["viewer"]).count() == 1
    page = client.get(thread_url(public_objective))
    assert ">edited</span>" in page.text


def test_someone_mentioned_removed_and_mentioned_again_is_told_once(
    people, public_objective
):
    comment = services.post_comment(
        people["member"], Thread(public_objective), "@viewer look"
    )

    services.edit_comment(people["member"], comment, "never mind")
    services.edit_comment(people["member"], comment, "@viewer look again")

    assert len(notes(people["viewer"], kind=NotificationKind.MENTION)) == 1


def test_an_edit_that_changes_nothing_is_no_edit(people, public_objective):
    comment = services.post_comment(people["member"], Thread(public_objective), "Hi")

    changed = services.edit_comment(people["member"], comment, "  Hi  ")

    assert changed is False
    assert comment.edited_at is None


# Who may do what


@pytest.mark.parametrize("persona", ["manager", "admin", "viewer"])
def test_only_the_author_edits_a_comment(client, people, public_objective, persona):
    comment = services.post_comment(people["member"], Thread(public_objective), "Mine")
    client.force_login(people[persona])

    response = client.post(
        reverse("comment_edit", args=[comment.pk]), {"body": "Theirs"}
    )

    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.body == "Mine"


def test_an_administrator_removes_anyones_comment_a_manager_does_not(
    client, people, public_objective
):
    comment = services.post_comment(people["member"], Thread(public_objective), "Oops")
    url = reverse("comment_delete", args=[comment.pk])

    client.force_login(people["manager"])
    refused = client.post(url)
    client.force_login(people["admin"])
    removed = client.post(url)

    assert refused.status_code == 403
    assert removed.status_code == 302
    assert not Comment.objects.exists()


def test_an_outsider_can_neither_read_nor_write_a_team_only_thread(
    client, people, private_objective, private_key_result
):
    comment = services.post_comment(
        people["member"], Thread(private_objective), "Secret"
    )
    client.force_login(people["outsider"])
    urls = [
        thread_url(private_objective),
        reverse("key_result_comments", args=[private_key_result.pk]),
    ]

    answers = [client.get(url).status_code for url in urls]
    answers += [post(client, url, "Let me in").status_code for url in urls]
    answers.append(client.get(reverse("comment_edit", args=[comment.pk])).status_code)
    answers.append(
        client.post(reverse("comment_delete", args=[comment.pk])).status_code
    )

    assert answers == [404] * 6
    assert list(Comment.objects.values_list("body", flat=True)) == ["Secret"]


# Removing


def test_removing_the_last_comment_takes_it_away(client, people, public_objective):
    comment = services.post_comment(
        people["member"], Thread(public_objective), "@manager typo"
    )
    client.force_login(people["member"])

    response = client.post(reverse("comment_delete", args=[comment.pk]))

    assert response.status_code == 302
    assert not Comment.objects.exists()
    assert notes(people["manager"]) == []
    email = Delivery.objects.get(recipient=people["manager"])
    assert (email.status, email.last_error) == ("skipped", "The comment was removed.")


def test_removing_an_answered_comment_leaves_a_marker(client, people, public_objective):
    thread = Thread(public_objective)
    first = services.post_comment(people["member"], thread, "@viewer secret plan")
    services.post_comment(people["viewer"], thread, "Noted")
    client.force_login(people["member"])

    client.post(reverse("comment_delete", args=[first.pk]), headers=HTMX)

    first.refresh_from_db()
    assert first.is_removed
    assert (first.body, first.body_html) == ("", "")
    assert notes(people["viewer"]) == []
    page = client.get(thread_url(public_objective))
    assert "Comment removed" in page.text
    assert "secret plan" not in page.text
    assert "Noted" in page.text


def test_removing_the_answer_takes_the_marker_before_it_too(people, public_objective):
    thread = Thread(public_objective)
    first = services.post_comment(people["member"], thread, "Question")
    answer = services.post_comment(people["viewer"], thread, "Answer")
    services.remove_comment(people["member"], first)

    kept = services.remove_comment(people["viewer"], answer)

    assert kept is False
    assert not Comment.objects.exists()


def test_a_removed_comment_cannot_be_edited(client, people, public_objective):
    thread = Thread(public_objective)
    first = services.post_comment(people["member"], thread, "Question")
    services.post_comment(people["viewer"], thread, "Answer")
    services.remove_comment(people["member"], first)
    client.force_login(people["member"])

    response = client.post(reverse("comment_edit", args=[first.pk]), {"body": "Back"})

    assert response.status_code == 403


# Bad input and double submits


def test_an_empty_comment_is_refused_and_changes_nothing(
    client, people, public_objective
):
    client.force_login(people["member"])

    response = post(client, thread_url(public_objective), "   \n ")

    assert response.status_code == 400
    assert "Write something first." in response.text
    assert not Comment.objects.exists()


def test_a_comment_too_long_is_refused(people, public_objective):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.post_comment(people["member"], Thread(public_objective), "x" * 10_001)

    assert refused.value.message_dict == {
        "body": ["Keep a comment under 10,000 characters; this one has 10,001."]
    }
    assert not Comment.objects.exists()


def test_a_form_sent_twice_posts_once(client, people, public_objective):
    client.force_login(people["viewer"])
    token = "t" * 43

    first = post(client, thread_url(public_objective), "Once", submission=token)
    second = post(client, thread_url(public_objective), "Once", submission=token)

    comment = Comment.objects.get()
    assert first["Location"] == second["Location"]
    assert first["Location"].endswith(f"#comment-{comment.pk}")
    assert len(notes(people["member"])) == 1


# On the objective page


def test_the_objective_page_loads_its_discussion_lazily(
    client, people, public_key_result
):
    check_in = record_check_in(
        people["member"], public_key_result, as_of=date(2026, 11, 14), value=Decimal(7)
    )
    client.force_login(people["viewer"])

    page = client.get(
        reverse("objective_detail", args=[public_key_result.objective_id])
    )

    comments_url = thread_url(public_key_result.objective)
    assert f'hx-get="{comments_url}" hx-trigger="load"' in page.text
    check_in_url = reverse("check_in_comments", args=[check_in.pk])
    assert f'hx-get="{check_in_url}"' in page.text
    assert f'<span id="check-in-comment-count-{check_in.pk}"></span>' in page.text


def test_the_lazy_discussion_counts_comments_per_key_result_and_check_in(
    client, people, public_key_result
):
    objective = public_key_result.objective
    check_in = record_check_in(
        people["member"], public_key_result, as_of=date(2026, 11, 14), value=Decimal(7)
    )
    member = people["member"]
    services.post_comment(member, Thread(objective), "On the objective")
    services.post_comment(member, Thread(objective, public_key_result), "On the KR")
    on_check_in = Thread(objective, public_key_result, check_in)
    services.post_comment(member, on_check_in, "One")
    services.post_comment(member, on_check_in, "Two")
    client.force_login(people["viewer"])

    lazy = client.get(thread_url(objective), headers=HTMX | {"HX-Target": "comments"})

    assert "<html" not in lazy.text
    assert '<section id="comments"' in lazy.text
    assert "On the objective" in lazy.text
    assert "On the KR" not in lazy.text  # opened on demand
    assert "Comments (1)</a>" in lazy.text
    assert (
        f'<span id="check-in-comment-count-{check_in.pk}" hx-swap-oob="true"> (2)'
        in lazy.text
    )


def test_a_check_in_thread_opens_in_place_and_takes_comments(
    client, people, public_key_result
):
    check_in = record_check_in(
        people["member"], public_key_result, as_of=date(2026, 11, 14), value=Decimal(7)
    )
    url = reverse("check_in_comments", args=[check_in.pk])
    client.force_login(people["manager"])

    empty = client.get(url, headers=HTMX)
    posted = client.post(url, {"body": "Why 7?"}, headers=HTMX)

    assert f'<div id="thread-check-in-{check_in.pk}" class="thread">' in empty.text
    assert "No comments on the check-in of 14 Nov 2026" in empty.text
    assert posted.status_code == 200
    assert "<p>Why 7?</p>" in posted.text
    assert 'name="body"' in posted.text
    assert "Why 7?</textarea>" not in posted.text
    comment = Comment.objects.get()
    assert (comment.key_result, comment.check_in) == (public_key_result, check_in)
    [told] = notes(people["member"])
    assert told.text == (
        "Manager commented on a check-in of “30+ delinquency rate” "
        "(“Reduce 30+ delinquency”)"
    )
    assert told.key_result == public_key_result


def test_an_htmx_edit_swaps_the_comment_back_in(client, people, public_objective):
    comment = services.post_comment(people["member"], Thread(public_objective), "Hi")
    client.force_login(people["member"])
    url = reverse("comment_edit", args=[comment.pk])

    form = client.get(url, headers=HTMX)
    saved = client.post(url, {"body": "Hello"}, headers=HTMX)

    assert (
        f'<li id="comment-{comment.pk}" class="comment comment--editing">' in form.text
    )
    assert "Hi</textarea>" in form.text
    assert saved.text.strip().startswith(f'<li id="comment-{comment.pk}"')
    assert "<p>Hello</p>" in saved.text
    assert "edited" in saved.text
