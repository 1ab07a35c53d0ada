from django.urls import path

from creditokr.reminders import views

urlpatterns = [
    path(
        "me/notifications/",
        views.notification_preferences,
        name="notification_preferences",
    ),
    path(
        "reminders/unsubscribe/<str:token>/",
        views.unsubscribe,
        name="reminder_unsubscribe",
    ),
]
