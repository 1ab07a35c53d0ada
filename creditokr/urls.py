from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from creditokr.accounts import views as account_views
from creditokr.core.converters import IdConverter

register_converter(IdConverter, "id")

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", account_views.profile, name="profile"),
    path(
        "me/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "me/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("", include("creditokr.okrs.urls")),
    path("", include("creditokr.okrs.edit_urls")),
    path("", include("creditokr.okrs.people_urls")),
    path("cycles/", include("creditokr.cycles.urls")),
    path("data/", include("creditokr.creditdata.urls")),
    path("", include("creditokr.calendars.urls")),
    path("", include("creditokr.reminders.urls")),
    path("", include("creditokr.activity.urls")),
    path("", include("creditokr.collab.urls")),
]
