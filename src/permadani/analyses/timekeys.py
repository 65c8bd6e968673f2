"""Integer keys of instants (whole seconds, period starts), computed without time-zone arithmetic.

Timestamps are UTC instants (``created_at`` is a timestamp with time zone). On DuckDB, truncating such a value or
casting it to a plain timestamp goes through the ICU calendar: ~110 CPU-ns per value, 5.5 s for the whole seconds
of 40M timestamps on two cores, against 0.1 s for reading their microseconds since the epoch (bench/README.md,
round 7). So both keys start from that integer:

- ``seconds(ts)`` = ⌊µs(ts) / 10⁶⌋, the whole seconds since the epoch (the instant truncated to the second);
- ``unit_start(ts, unit)`` = epoch seconds of ``truncate(wall(ts), unit)``, where ``wall(ts)`` is the plain
  timestamp with the same microseconds: UTC has no offset, so its calendar fields are the instant's in UTC, and
  the truncation is plain calendar arithmetic.

Both are Spark SQL functions (``unix_micros``, ``timestamp_micros``). DuckDB receives ``unix_micros`` as its
``epoch_us`` (the SQL dialect maps it) and ``timestamp_micros`` as a macro of ``make_timestamp`` that
``engine.connect`` defines (``engine.DUCKDB_MACROS``).
"""

from __future__ import annotations

import datetime as _dt

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir


@ibis.udf.scalar.builtin(name="unix_micros")
def unix_micros(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type]
    """Microseconds since the epoch of the instant ``ts``."""


@ibis.udf.scalar.builtin(name="timestamp_micros")
def timestamp_micros(micros: dt.int64) -> dt.Timestamp():  # type: ignore[valid-type]
    """The plain (zone-less) timestamp ``micros`` microseconds after 1970-01-01 00:00."""


def seconds(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Whole seconds since the epoch of ``ts``: ⌊µs / 10⁶⌋ (the same on every engine, pre-1970 included)."""
    return unix_micros(ts) // 1_000_000


def unit_start(ts: ir.TimestampValue, unit: str) -> ir.IntegerValue:
    """Epoch seconds of the start (UTC) of the calendar period containing ``ts``; ``unit`` is an Ibis truncation
    unit (``D``, ``W`` = ISO week from Monday, ``M``, ``Q``, ``Y``)."""
    wall = timestamp_micros(unix_micros(ts))
    return wall.truncate(unit).epoch_seconds().cast("int64")


def instant(epoch_seconds: int) -> ir.TimestampScalar:
    """The UTC instant ``epoch_seconds`` as a literal: ``created_at >= instant(s)`` holds exactly when
    ``seconds(created_at) >= s``, and unlike the computed key it lets the engine skip Parquet row groups by their
    min/max statistics."""
    return ibis.literal(_dt.datetime.fromtimestamp(int(epoch_seconds), tz=_dt.UTC))
