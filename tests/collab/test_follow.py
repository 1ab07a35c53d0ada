"""Following an objective: by asking, or by owning part of it."""

import pytest
from django.urls import reverse

from creditokr.collab import services
from creditokr.collab.access import Thread
from creditokr.collab.audience import follower_ids, followers
from creditokr.collab.models import Follow
from creditokr.okrs.models import Initiative
from tests.collab.conftest import notes
from tests.conftest import make_key_result

pytestmark = pytest.mark.django_db


def follow_url(objective) -> str:
    return reverse("objective_follow", args=[objective.pk])


def test_following_and_unfollowing_with_the_button(client, people, public_objective):
    client.force_login(people["viewer"])

    followed = client.post(follow_url(public_objective), {"action": "follow"})
    again = client.post(follow_url(public_objective), {"action": "follow"})
    assert Follow.objects.filter(user=people["viewer"]).count() == 1
    unfollowed = client.post(follow_url(public_objective), {"action": "unfollow"})

    assert followed.status_code == again.status_code == unfollowed.status_code == 302
    assert followed["Location"] == f"/objectives/{public_objective.pk}/"
    assert not Follow.objects.exists()


def test_the_button_swaps_itself_for_its_new_state(client, people, public_objective):
    client.force_login(people["viewer"])
    page = client.get(reverse("objective_detail", args=[public_objective.pk]))

    swapped = client.post(
        follow_url(public_objective),
        {"action": "follow"},
        headers={"HX-Request": "true"},
    )

    assert 'aria-pressed="false"' in page.text
    assert ">Follow</button>" in page.text
    assert '<div id="follow-button" class="follow">' in swapped.text
    assert 'aria-pressed="true"' in swapped.text
    assert ">Unfollow</button>" in swapped.text
    assert '<input type="hidden" name="action" value="unfollow">' in swapped.text


def test_the_owner_sees_no_button(client, people, public_objective):
    client.force_login(people["member"])

    page = client.get(reverse("objective_detail", args=[public_objective.pk]))

    assert "You own this objective" in page.text
    assert follow_url(public_objective) not in page.text


def test_an_unknown_action_is_refused(client, people, public_objective):
    client.force_login(people["viewer"])

    response = client.post(follow_url(public_objective), {"action": "watch"})

    assert response.status_code == 400
    assert response.text == "Say whether to follow or unfollow."
    assert not Follow.objects.exists()


def test_an_outsider_cannot_follow_a_team_only_objective(
    client, people, private_objective
):
    client.force_login(people["outsider"])

    response = client.post(follow_url(private_objective), {"action": "follow"})

    assert response.status_code == 404
    assert not Follow.objects.exists()


def test_owners_and_assignees_follow_without_asking(
    people, public_objective, colleague
):
    make_key_result(public_objective, colleague, title="Cure rate")
    Initiative.objects.create(
        objective=public_objective, title="Call list", assignee=people["viewer"]
    )
    Follow.objects.create(user=people["manager"], objective=public_objective)

    assert follower_ids(public_objective) == {
        people["member"].pk,
        colleague.pk,
        people["viewer"].pk,
        people["manager"].pk,
    }


def test_followers_hear_of_comments_until_they_unfollow(
    people, public_objective, colleague
):
    Follow.objects.create(user=colleague, objective=public_objective)
    thread = Thread(public_objective)

    services.post_comment(people["viewer"], thread, "First")
    services.unfollow(colleague, public_objective)
    services.post_comment(people["viewer"], thread, "Second")

    assert [n.text for n in notes(colleague)] == [
        "Viewer commented on “Reduce 30+ delinquency”"
    ]
    assert len(notes(people["member"])) == 2  # the owner, twice


def test_a_follower_who_can_no_longer_see_it_is_not_told(people, public_objective):
    Follow.objects.create(user=people["outsider"], objective=public_objective)
    public_objective.visibility = "team"
    public_objective.save()

    services.post_comment(people["member"], Thread(public_objective), "Quiet now")

    assert people["outsider"] not in followers(public_objective)
    assert notes(people["outsider"]) == []


def test_a_deactivated_follower_is_not_told(people, public_objective):
    Follow.objects.create(user=people["viewer"], objective=public_objective)
    people["viewer"].is_active = False
    people["viewer"].save()

    services.post_comment(people["manager"], Thread(public_objective), "Anyone?")

    assert notes(people["viewer"]) == []
    assert len(notes(people["member"])) == 1
