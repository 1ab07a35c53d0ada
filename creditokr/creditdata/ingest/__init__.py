"""Importing credit data: files into canonical Parquet, SQL sources in place.

The flow the web side follows: `sniff` an upload, let the user build a
`Mapping` (checked by `check_mapping`, shown by `preview`), then
`import_file`, which writes everything or nothing. SQL sources use the
functions in `sql_source` with the same mappings.
"""

from creditokr.creditdata.ingest.errors import (
    FileRefused,
    ImportTimeout,
    IngestError,
    MappingError,
    Problem,
    RowError,
    SourceError,
)
from creditokr.creditdata.ingest.importer import (
    ImportResult,
    PreviewCell,
    PreviewRow,
    import_file,
    preview,
)
from creditokr.creditdata.ingest.mapping import (
    FieldMapping,
    Mapping,
    WidePeriod,
    canonical_table,
    check_mapping,
)
from creditokr.creditdata.ingest.readers import FileFormat, Sniffed, sniff

__all__ = [
    "FieldMapping",
    "FileFormat",
    "FileRefused",
    "ImportResult",
    "ImportTimeout",
    "IngestError",
    "Mapping",
    "MappingError",
    "PreviewCell",
    "PreviewRow",
    "Problem",
    "RowError",
    "Sniffed",
    "SourceError",
    "WidePeriod",
    "canonical_table",
    "check_mapping",
    "import_file",
    "preview",
    "sniff",
]
