"""Reference data from spreadsheets: cities, bases, specialties, batches and plans.

A file is `.xlsx` (first sheet) or `.csv` (UTF-8 with or without BOM, GBK or GB18030, found
by charset-normalizer); the header is the first of the top ten rows that names two columns (a
title or note row above it is skipped), with Chinese or English column names (`城市代码` or
`city_code`; case, spaces, `_`, `*` and a trailing hint in brackets such as `（小时）` do not
matter). What a file holds is named by the
caller or inferred from its name (`bases.xlsx`, `招收计划.csv`) or else its header.

Every row is checked before anything is written: required fields, formats, references (to the
database, or to rows earlier in the same file), duplicates within the file, and the periods of a
batch. Codes are text: one that arrived as a number without its leading zeros (400 for 0400) is
refused, never stored as another code. Any bad row fails the whole file, and each problem is
reported with the file, the row as a spreadsheet counts it and the reason in English and
Chinese. Importing a file again updates the rows it names, by their key (a code; a batch by
program and name; a plan by batch, base and specialty), so importing is idempotent; rows the
file does not name are kept.

Times in files are Asia/Shanghai wall-clock (an explicit offset is honoured) and are stored in
UTC. A date without a time means the start of that day for a start, and 23:59:59 for an end.
"""

from reference.importer.columns import infer_kind
from reference.importer.errors import ImportFailed, ImportResult, Kind, RowError
from reference.importer.kinds import import_file, import_table
from reference.importer.reading import Table, read_file
from reference.importer.rows import parse_moment

__all__ = [
    "ImportFailed",
    "ImportResult",
    "Kind",
    "RowError",
    "Table",
    "import_file",
    "import_table",
    "infer_kind",
    "parse_moment",
    "read_file",
]
