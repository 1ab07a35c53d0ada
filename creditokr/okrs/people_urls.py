"""People and their work: teams, assigning, ordering, invitations and
deactivation."""

from django.urls import path

from creditokr.accounts import invitation_views
from creditokr.accounts import people_views as account_views
from creditokr.okrs import people_views

urlpatterns = [
    path("teams/", people_views.team_list, name="team_list"),
    path("teams/<slug:slug>/", people_views.team_detail, name="team_detail"),
    path("teams/<slug:slug>/work/", people_views.team_work, name="team_work"),
    path(
        "initiatives/<id:pk>/assign/",
        people_views.initiative_assign,
        name="initiative_assign",
    ),
    path(
        "key-results/<id:pk>/assign/",
        people_views.key_result_assign,
        name="key_result_assign",
    ),
    path(
        "initiatives/<id:pk>/priority/",
        people_views.initiative_priority,
        name="initiative_priority",
    ),
    path(
        "objectives/<id:pk>/initiatives/order/",
        people_views.initiative_order,
        name="initiative_order",
    ),
    path("invitations/", invitation_views.invitation_list, name="invitation_list"),
    path(
        "invitations/<id:pk>/revoke/",
        invitation_views.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "invitations/<id:pk>/resend/",
        invitation_views.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "invitations/<str:token>/",
        invitation_views.invitation_accept,
        name="invitation_accept",
    ),
    path("people/", account_views.person_list, name="person_list"),
    path(
        "people/<id:pk>/deactivate/",
        account_views.person_deactivate,
        name="person_deactivate",
    ),
    path(
        "people/<id:pk>/reactivate/",
        account_views.person_reactivate,
        name="person_reactivate",
    ),
]
