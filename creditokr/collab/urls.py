"""Comment threads, follows and notifications."""

from django.urls import path

from creditokr.collab import views

urlpatterns = [
    path(
        "objectives/<id:pk>/comments/",
        views.objective_comments,
        name="objective_comments",
    ),
    path(
        "key-results/<id:pk>/comments/",
        views.key_result_comments,
        name="key_result_comments",
    ),
    path(
        "check-ins/<id:pk>/comments/",
        views.check_in_comments,
        name="check_in_comments",
    ),
    path("comments/<id:pk>/edit/", views.comment_edit, name="comment_edit"),
    path("comments/<id:pk>/delete/", views.comment_delete, name="comment_delete"),
    path("objectives/<id:pk>/follow/", views.objective_follow, name="objective_follow"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
]
