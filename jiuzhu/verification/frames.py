"""Department files and lists as typed Polars frames: the contract's columns in its types.

Linkage and the cross-checks both take frames from other systems; both first hold them to
a schema here, so a missing column or a value of the wrong type is one clear error that
names the column, wherever it is found."""

from __future__ import annotations

import polars as pl


def typed(frame: pl.DataFrame, schema: dict[str, pl.DataType], what: str) -> pl.DataFrame:
    """The schema's columns in the schema's types, every other column dropped; ValueError
    naming `what` and the column when one is missing or cannot be cast without loss."""
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}")
    columns = []
    for name, dtype in schema.items():
        column = frame.get_column(name)
        if column.dtype != dtype:
            try:
                column = column.cast(dtype, strict=True)
            except pl.exceptions.PolarsError as error:
                raise ValueError(f"{what}.{name}: expected {dtype}, got {column.dtype}") from error
        columns.append(column)
    return pl.DataFrame(columns, schema=schema)
