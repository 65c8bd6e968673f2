"""Canonical Arrow schemas: one shape for every platform.

A dataset written by any adapter has exactly these columns, in this order, with these types. Timestamps are
UTC, microsecond precision. Bump ``SCHEMA_VERSION`` whenever a column is added, removed or changes meaning.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "1.0"

TIMESTAMP = pa.timestamp("us", tz="UTC")


def _field(name: str, type_: pa.DataType, doc: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"doc": doc})


POSTS = pa.schema(
    [
        _field("post_id", pa.string(), "Id of the post, unique within its platform.", nullable=False),
        _field("platform", pa.string(), "Platform slug: reddit, stackexchange, twitter, mastodon, ...",
               nullable=False),
        _field("community", pa.string(), "Subreddit, Stack Exchange site, blog, instance, list, ..."),
        _field("thread_id", pa.string(), "post_id of the thread's root (equals post_id for roots)."),
        _field("parent_id", pa.string(), "post_id of the post this one replies to; null for roots."),
        _field("author_id", pa.string(),
               "Stable author id; null when deleted or anonymous (never one person)."),
        _field("created_at", TIMESTAMP, "When the post was written, UTC."),
        _field("kind", pa.string(),
               "post, comment, question, answer, repost, quote, message, pingback, ..."),
        _field("text", pa.string(), "Body text as published (markup kept, addresses scrubbed)."),
        _field("score", pa.int64(), "Platform score (votes, likes); null when the platform has none."),
        _field("amplifies_id", pa.string(), "post_id of the original for reposts, quotes and boosts."),
        _field("lang", pa.string(), "Language code when the source gives one."),
        _field("source_file", pa.string(), "Source file the post was read from.", nullable=False),
        _field("source_line", pa.int64(),
               "Line number (1-based) in line formats, else record index or byte offset."),
    ],
    metadata={"permadani.table": "posts", "permadani.schema_version": SCHEMA_VERSION},
)

ACCOUNTS = pa.schema(
    [
        _field("author_id", pa.string(), "Same id as posts.author_id.", nullable=False),
        _field("platform", pa.string(), "Platform slug.", nullable=False),
        _field("display_name", pa.string(), "Name shown by the platform, as last observed."),
        _field("followers", pa.int64(), "Follower count, the maximum observed."),
        _field("account_created_at", TIMESTAMP, "When the account was created, UTC."),
        _field("reputation", pa.int64(), "Karma / reputation as reported by the platform, maximum observed."),
        _field("is_bot", pa.bool_(), "Platform bot flag (true if any observation says so)."),
        _field("source_file", pa.string(),
               "Source file of the account record (e.g. Users.xml); null when only seen as an author."),
    ],
    metadata={"permadani.table": "accounts", "permadani.schema_version": SCHEMA_VERSION},
)

REJECTS = pa.schema(
    [
        _field("source", pa.string(), "Source file of the record.", nullable=False),
        _field("format", pa.string(), "Adapter that read it."),
        _field("location", pa.string(), "Where: 'line 17', 'byte 4096', 'row Id=12', ...", nullable=False),
        _field("reason", pa.string(), "Stable reason code, e.g. malformed-json, missing-id.", nullable=False),
        _field("detail", pa.string(), "Human explanation."),
        _field("excerpt", pa.string(), "First characters of the raw record (addresses scrubbed)."),
    ],
    metadata={"permadani.table": "rejects", "permadani.schema_version": SCHEMA_VERSION},
)

#: Reason codes used across adapters. Adapters may add their own; keep them kebab-case and stable.
REASONS = {
    "malformed-json": "The line or document is not valid JSON.",
    "malformed-xml": "The element could not be parsed as XML.",
    "malformed-csv": "The CSV row has the wrong number of fields or broken quoting.",
    "invalid-utf8": "The record contains bytes that are not valid UTF-8.",
    "missing-id": "The record has no id, so it cannot be kept or linked.",
    "missing-field": "A field the adapter needs is absent.",
    "bad-timestamp": "The timestamp is missing or cannot be parsed.",
    "bad-value": "A field has a value of the wrong type.",
    "not-a-record": "A JSON value that is not an object where a record was expected.",
    "more-stub": "A Reddit 'more' placeholder: names children that were not fetched.",
    "unsupported-kind": "A record kind this adapter does not turn into posts.",
}

EXCERPT_CHARS = 300


def empty(schema: pa.Schema) -> pa.Table:
    """An empty table of ``schema``."""
    return schema.empty_table()


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Return ``table`` with exactly the columns of ``schema`` (missing ones null), cast to its types.

    Raises ``ValueError`` naming the column when a cast is impossible; adapters should have converted values.
    """
    columns = []
    n = table.num_rows
    for field in schema:
        if field.name in table.column_names:
            col = table.column(field.name)
            if not col.type.equals(field.type):
                try:
                    col = col.cast(field.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise ValueError(f"column {field.name!r}: cannot cast {col.type} to {field.type}: {exc}") \
                        from exc
            columns.append(col)
        else:
            columns.append(pa.nulls(n, field.type))
    return pa.Table.from_arrays(columns, schema=schema)
