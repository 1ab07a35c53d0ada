"""Credit data: canonical datasets, imports and the KPI engine.

Key results can be fed by credit KPIs computed from the team's own data.
Files are imported into canonical Parquet and computed with DuckDB; SQL
sources stay where they are and the KPI queries are pushed down to them
through Ibis.
"""
