"""The credit-data screens.

Every source arrives through creditokr.creditdata.access: a source someone
may not see answers 404; one they see but may not change answers 403. Key
results arrive through creditokr.okrs.access in the same way. Changes are
POST only and go through creditokr.creditdata.services.

- `sources`: the list of sources, one source, creating and editing one.
- `uploads`: a delivery of a file: upload, column mapping, import.
- `explorer`: a KPI computed over a source, as a table, chart and CSV.
- `feeds`: a key result fed by a KPI.
"""
