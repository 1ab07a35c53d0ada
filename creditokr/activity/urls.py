"""The activity feed and each objective's change history."""

from django.urls import path

from creditokr.activity import views

urlpatterns = [
    path("activity/", views.feed, name="activity_feed"),
    path(
        "objectives/<id:pk>/history/",
        views.objective_history,
        name="objective_history",
    ),
]
