from zoneinfo import available_timezones

from django import forms

from creditokr.accounts.models import User


def zone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in available_timezones() if "/" in z or z == "UTC")
    return [("", "The organisation's time zone"), *((z, z) for z in zones)]


class ProfileForm(forms.ModelForm[User]):
    time_zone = forms.ChoiceField(choices=zone_choices, required=False)

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "time_zone"]
