"""The canonical datasets every credit KPI is computed from.

A user maps their own columns onto one of these shapes. The engine only
ever sees canonical column names and types, so a KPI is written once and
runs on an imported file (DuckDB) or on a SQL source (pushed down).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FieldType(StrEnum):
    STRING = "string"
    DATE = "date"
    TIMESTAMP = "timestamp"
    INTEGER = "integer"
    DECIMAL = "decimal"  # money and balances: DECIMAL(18, 4)
    BOOLEAN = "boolean"
    CHOICE = "choice"  # a string restricted to `choices`


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: FieldType
    required: bool = True
    help: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dataset:
    key: str
    label: str
    description: str
    fields: tuple[Field, ...]
    # Columns that identify one row; duplicates are refused at import.
    unique_key: tuple[str, ...]

    def field(self, name: str) -> Field:
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


SEGMENT = Field("segment", "Segment", FieldType.STRING, required=False)
PRODUCT = Field("product", "Product", FieldType.STRING, required=False)

RECEIVABLES = Dataset(
    key="receivables",
    label="Receivables (invoices)",
    description="One row per invoice, with the date it was settled if it was.",
    fields=(
        Field("invoice_id", "Invoice number", FieldType.STRING),
        Field("customer_id", "Customer", FieldType.STRING),
        Field("invoice_date", "Invoice date", FieldType.DATE),
        Field("due_date", "Due date", FieldType.DATE),
        Field(
            "amount",
            "Invoice amount",
            FieldType.DECIMAL,
            help="Credit notes may be negative.",
        ),
        Field(
            "settled_date",
            "Settled date",
            FieldType.DATE,
            required=False,
            help="Empty while the invoice is open. Ignored for invoices that "
            "have payments in a payments dataset.",
        ),
        Field(
            "credit_sale",
            "Credit sale",
            FieldType.BOOLEAN,
            required=False,
            help="DSO and CEI count credit sales only; empty means yes.",
        ),
        Field("disputed", "Disputed", FieldType.BOOLEAN, required=False),
        SEGMENT,
        PRODUCT,
    ),
    unique_key=("invoice_id",),
)

PAYMENTS = Dataset(
    key="payments",
    label="Payments applied to invoices",
    description="One row per payment applied to an invoice; for partial "
    "payments. Used together with a receivables dataset.",
    fields=(
        Field("invoice_id", "Invoice number", FieldType.STRING),
        Field("payment_date", "Payment date", FieldType.DATE),
        Field("amount", "Amount applied", FieldType.DECIMAL),
    ),
    unique_key=(),
)

ACCOUNT_SNAPSHOTS = Dataset(
    key="account_snapshots",
    label="Account snapshots (loan tape)",
    description="One row per account per snapshot date, usually month end.",
    fields=(
        Field("account_id", "Account", FieldType.STRING),
        Field("as_of", "Snapshot date", FieldType.DATE),
        Field(
            "dpd",
            "Days past due",
            FieldType.INTEGER,
            help="Zero or less is current.",
        ),
        Field(
            "balance",
            "Outstanding balance",
            FieldType.DECIMAL,
            help="May be negative (a credit balance).",
        ),
        Field(
            "state",
            "Account state",
            FieldType.CHOICE,
            required=False,
            choices=("open", "paid_off", "charged_off"),
            help="Empty means open.",
        ),
        Field("origination_date", "Origination date", FieldType.DATE, required=False),
        SEGMENT,
        PRODUCT,
    ),
    unique_key=("account_id", "as_of"),
)

RECOVERIES = Dataset(
    key="recoveries",
    label="Charge-offs and recoveries",
    description="One row per charge-off, recovery or debt sale.",
    fields=(
        Field("account_id", "Account", FieldType.STRING),
        Field("event_date", "Date", FieldType.DATE),
        Field(
            "kind",
            "Kind",
            FieldType.CHOICE,
            choices=("charge_off", "recovery", "debt_sale"),
        ),
        Field("amount", "Amount", FieldType.DECIMAL, help="Zero or more."),
        Field(
            "fee",
            "Agency fee",
            FieldType.DECIMAL,
            required=False,
            help="Collection agency fee on a recovery; zero or more.",
        ),
        Field("channel", "Recovery channel", FieldType.STRING, required=False),
        SEGMENT,
        PRODUCT,
    ),
    unique_key=(),
)

APPLICATION_EVENTS = Dataset(
    key="application_events",
    label="Credit application events",
    description="One row per event in a credit application's life.",
    fields=(
        Field("application_id", "Application", FieldType.STRING),
        Field(
            "event",
            "Event",
            FieldType.CHOICE,
            choices=("received", "complete", "decision", "funded", "withdrawn"),
        ),
        Field("occurred_at", "When", FieldType.TIMESTAMP),
        Field(
            "decision",
            "Decision",
            FieldType.CHOICE,
            required=False,
            choices=("approved", "declined", "referred"),
        ),
        SEGMENT,
        PRODUCT,
    ),
    unique_key=("application_id", "event"),
)

POLICY_CHECKS = Dataset(
    key="policy_checks",
    label="Policy checks",
    description="One row per policy rule checked on a credit decision.",
    fields=(
        Field("application_id", "Application", FieldType.STRING),
        Field("rule_id", "Policy rule", FieldType.STRING),
        Field("decided_on", "Decision date", FieldType.DATE),
        Field("passed", "Within policy", FieldType.BOOLEAN),
        Field(
            "exception_type",
            "Exception type",
            FieldType.CHOICE,
            required=False,
            choices=("low_side", "high_side"),
            help="Low side: approved against policy. High side: declined "
            "against policy.",
        ),
        Field(
            "exception_approved",
            "Exception approved and documented",
            FieldType.BOOLEAN,
            required=False,
        ),
        SEGMENT,
        PRODUCT,
    ),
    unique_key=("application_id", "rule_id"),
)

DATASETS: dict[str, Dataset] = {
    d.key: d
    for d in (
        RECEIVABLES,
        PAYMENTS,
        ACCOUNT_SNAPSHOTS,
        RECOVERIES,
        APPLICATION_EVENTS,
        POLICY_CHECKS,
    )
}
