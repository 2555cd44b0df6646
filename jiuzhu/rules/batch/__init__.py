"""`rules batch`: the vectorised means test over Parquet files, chunk by chunk.

Memory stays flat: households are read in chunks and each chunk's members with them.
Every row is validated as `rules evaluate` would validate the same household; if any
row is bad the report lists each (file, row, column, reason) and no output is left."""

from jiuzhu.rules.batch.compute import ContextIndex, compute_chunk, compute_tables, output_table
from jiuzhu.rules.batch.files import OutputFile, compute_files, run_batch
from jiuzhu.rules.batch.layout import Layout, plan
from jiuzhu.rules.batch.schema import (
    DEFAULT_CHUNK,
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_MONEY,
    HOUSEHOLD_REQUIRED,
    MEMBER_COLUMNS,
    MEMBER_REQUIRED,
    RegionCheck,
)
from jiuzhu.rules.batch.validation import BadInput, BadRows

__all__ = [
    "DEFAULT_CHUNK", "HOUSEHOLD_COLUMNS", "HOUSEHOLD_MONEY", "HOUSEHOLD_REQUIRED", "MEMBER_COLUMNS",
    "MEMBER_REQUIRED", "BadInput", "BadRows", "ContextIndex", "Layout", "OutputFile", "RegionCheck", "compute_chunk",
    "compute_files", "compute_tables", "output_table", "plan", "run_batch",
]
