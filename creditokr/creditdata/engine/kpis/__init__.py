"""The registry of credit KPIs."""

from __future__ import annotations

from creditokr.creditdata.engine.kpis.base import KPI, FilterError, KPIError, Unit
from creditokr.creditdata.engine.kpis.policy import ExceptionRate, PolicyCompliance
from creditokr.creditdata.engine.kpis.receivables import (
    DSO,
    AverageDaysDelinquent,
    BestPossibleDSO,
    CollectionEffectiveness,
    ReceivablesAging,
)
from creditokr.creditdata.engine.kpis.recovery import RecoveryRate
from creditokr.creditdata.engine.kpis.snapshots import AgingBuckets, DelinquencyRate
from creditokr.creditdata.engine.kpis.transitions import CureRate, RollRate
from creditokr.creditdata.engine.kpis.turnaround import ApprovalTurnaround

__all__ = ["KPI", "KPIS", "FilterError", "KPIError", "Unit", "get_kpi"]

KPIS: dict[str, KPI] = {
    kpi.key: kpi
    for kpi in (
        DelinquencyRate(),
        AgingBuckets(),
        RollRate(),
        CureRate(),
        DSO(),
        BestPossibleDSO(),
        AverageDaysDelinquent(),
        CollectionEffectiveness(),
        ReceivablesAging(),
        ApprovalTurnaround(),
        RecoveryRate(),
        PolicyCompliance(),
        ExceptionRate(),
    )
}


def get_kpi(key: str) -> KPI:
    """The KPI with this key; KeyError names the known keys otherwise."""
    try:
        return KPIS[key]
    except KeyError:
        known = ", ".join(sorted(KPIS))
        raise KeyError(f"unknown KPI {key!r}; known KPIs: {known}") from None
