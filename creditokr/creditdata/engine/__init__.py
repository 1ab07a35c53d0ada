"""Credit KPIs written once in Ibis, run by DuckDB or the source database."""
