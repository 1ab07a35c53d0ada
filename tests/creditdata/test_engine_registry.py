"""The KPI registry, settings cleaning and stated conventions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from creditokr.creditdata.canonical import DATASETS
from creditokr.creditdata.engine.kpis import KPIS, get_kpi
from creditokr.creditdata.engine.settings import Setting, SettingsError


@pytest.mark.parametrize("key", sorted(KPIS))
def test_every_kpi_is_described_and_states_its_conventions(key):
    kpi = KPIS[key]

    assert kpi.key == key
    assert kpi.unit in {"percent", "days", "index", "ratio", "count"}
    assert kpi.dataset in DATASETS
    assert all(extra in DATASETS for extra in kpi.optional_datasets)
    assert kpi.label
    assert kpi.description
    defaults = kpi.clean_settings({})
    assert set(defaults) == {s.name for s in kpi.settings}
    assert kpi.conventions({})
    for setting in kpi.settings:
        for value, _ in setting.choices:
            assert kpi.conventions({setting.name: value})


def test_unknown_kpi():
    with pytest.raises(KeyError, match="unknown KPI 'nope'"):
        get_kpi("nope")


def test_strings_from_forms_are_converted():
    kpi = get_kpi("delinquency_rate")

    settings = kpi.clean_settings({"threshold": " 60 ", "basis": "balance"})

    assert settings == {
        "threshold": 60,
        "basis": "balance",
        "denominator": "open_only",
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"threshold": "thirty"}, "threshold: 'thirty' is not a whole number"),
        ({"threshold": "30.5"}, "threshold: '30.5' is not a whole number"),
        ({"threshold": 0}, "threshold: must be at least 1"),
        ({"threshold": True}, "threshold: True is not a whole number"),
        ({"basis": "value"}, "basis: 'value' is not one of: count, balance"),
        ({"colour": "red"}, "colour: is not a setting of this KPI"),
    ],
)
def test_bad_settings_say_what_is_wrong(raw, message):
    with pytest.raises(SettingsError) as caught:
        get_kpi("delinquency_rate").clean_settings(raw)

    assert str(caught.value).startswith(message)
    assert caught.value.setting == message.split(":")[0]


def test_conventions_reflect_settings():
    kpi = get_kpi("delinquency_rate")

    lines = kpi.conventions({"threshold": 90, "basis": "balance"})

    assert lines[0] == "90+ days past due, day 90 included"
    assert any("negative (credit) balance reduces the totals" in line for line in lines)
    assert any("latest snapshot date" in line for line in lines)


def test_cei_conventions_name_n():
    assert "N = 1 month(s)" in get_kpi("cei").conventions({"months": 1})[0]
    assert "number of calendar months" in get_kpi("cei").conventions({})[0]


def test_bool_and_decimal_settings():
    flag = Setting("flag", "Flag", "bool", False)
    rate = Setting("rate", "Rate", "decimal", Decimal(1), max=Decimal(5))

    assert flag.clean("yes") is True
    assert flag.clean("off") is False
    assert flag.clean("") is False
    assert rate.clean("2.50") == Decimal("2.50")
    with pytest.raises(SettingsError, match="'maybe' is not yes or no"):
        flag.clean("maybe")
    with pytest.raises(SettingsError, match="must be at most 5"):
        rate.clean("7")
    with pytest.raises(SettingsError, match="'NaN' is not a number"):
        rate.clean("NaN")
