"""Your calendar feeds, and the secret addresses calendar programs read."""

from django.urls import path

from creditokr.calendars import views

urlpatterns = [
    path("me/calendars/", views.calendar_list, name="calendar_list"),
    path("me/calendars/new/", views.feed_create, name="calendar_feed_create"),
    path("me/calendars/revoke/", views.feed_revoke, name="calendar_feed_revoke"),
    path("calendar/<str:token>.ics", views.feed, name="calendar_feed"),
]
