"""Ready-made mappings for the two public datasets we test and demo with.

- IBM Watson Analytics "Accounts Receivable" sample (ar_invoices_ibm.csv):
  one invoice per row, US dates.
- "Default of credit card clients", Taiwan 2005, Yeh & Lien (2009), UCI
  Machine Learning Repository, CC BY 4.0 (uci_credit_card.csv): one card
  account per row with six monthly statements side by side.
"""

from __future__ import annotations

from datetime import date

from creditokr.creditdata.ingest.mapping import FieldMapping, Mapping, WidePeriod

US_DATE = "%m/%d/%Y"

# Repayment status and statement balance columns, newest month first.
# There is no PAY_1 in the published file.
UCI_MONTHS = (
    (date(2005, 9, 30), "PAY_0", "BILL_AMT1"),
    (date(2005, 8, 31), "PAY_2", "BILL_AMT2"),
    (date(2005, 7, 31), "PAY_3", "BILL_AMT3"),
    (date(2005, 6, 30), "PAY_4", "BILL_AMT4"),
    (date(2005, 5, 31), "PAY_5", "BILL_AMT5"),
    (date(2005, 4, 30), "PAY_6", "BILL_AMT6"),
)


def ibm_receivables_mapping() -> Mapping:
    """ar_invoices_ibm.csv as receivables."""
    return Mapping(
        dataset="receivables",
        fields={
            "invoice_id": FieldMapping(column="invoiceNumber"),
            "customer_id": FieldMapping(column="customerID"),
            "invoice_date": FieldMapping(column="InvoiceDate", date_format=US_DATE),
            "due_date": FieldMapping(column="DueDate", date_format=US_DATE),
            "amount": FieldMapping(column="InvoiceAmount"),
            "settled_date": FieldMapping(column="SettledDate", date_format=US_DATE),
            "disputed": FieldMapping(column="Disputed"),
            "segment": FieldMapping(column="countryCode"),
        },
    )


def uci_card_mapping() -> Mapping:
    """uci_credit_card.csv as monthly account snapshots, April to
    September 2005, with the repayment status read as months past due."""
    return Mapping(
        dataset="account_snapshots",
        fields={
            "account_id": FieldMapping(column="ID"),
            "dpd": FieldMapping(transform="months_past_due"),
        },
        wide=tuple(
            WidePeriod(as_of, {"dpd": status, "balance": balance})
            for as_of, status, balance in UCI_MONTHS
        ),
    )
