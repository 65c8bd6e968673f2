"""Keep personal addresses out of datasets: keyed hashes for ids, scrubbing for free text.

- ``pseudonym(key, value)`` = first 16 hex digits of HMAC-SHA256(key, value); the same key gives the same
  pseudonym across runs, so datasets can be shared and still joined.
- E-mail and IP addresses in free text are replaced by ``[email]`` / ``[ip]``; an id or display name that *is*
  an address is replaced by its keyed hash (``email:<hash>``), so one person stays one person.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

EMAIL_PATTERN = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
#: Mailman's obfuscated form: "someone at example.com"
EMAIL_AT_PATTERN = r"\b[A-Za-z0-9._%+\-]+ at [A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b"
IPV4_PATTERN = r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b"
IPV6_PATTERN = (
    r"\b(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\b"
    r"|\b(?:[0-9A-Fa-f]{1,4}:){1,7}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?\b"
)

_WHOLE_ADDRESS = rf"^\s*(?:{EMAIL_PATTERN}|{EMAIL_AT_PATTERN}|{IPV4_PATTERN}|{IPV6_PATTERN})\s*$"

KEY_ENV = "PERMADANI_KEY"


def pseudonym(key: bytes, value: str) -> str:
    """First 16 hex digits of HMAC-SHA256(key, value)."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def key_fingerprint(key: bytes) -> str:
    """A short public fingerprint of a key, to check that appends use the same key without storing it."""
    return pseudonym(key, "permadani-key-fingerprint")


def address_key() -> bytes:
    """The key used to hash addresses when no ``--pseudonymise`` key is given.

    ``$PERMADANI_KEY`` if set, else a random key kept in the user's config folder (created once, mode 0600).
    It is never written into a dataset, so hashes cannot be reversed by guessing addresses without it.
    """
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode("utf-8")
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "permadani"
    path = base / "address-key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        base.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode("ascii")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return key
    except OSError:
        # A read-only home: fall back to a per-process key (hashes stay unlinkable across runs).
        return secrets.token_hex(32).encode("ascii")


def scrub_text(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Replace e-mail and IP addresses in free text with ``[email]`` / ``[ip]`` (vectorised, RE2)."""
    if len(values) == 0 or values.null_count == len(values):
        return values
    out = pc.replace_substring_regex(values, EMAIL_PATTERN, "[email]")
    out = pc.replace_substring_regex(out, EMAIL_AT_PATTERN, "[email]")
    out = pc.replace_substring_regex(out, IPV4_PATTERN, "[ip]")
    out = pc.replace_substring_regex(out, IPV6_PATTERN, "[ip]")
    return out


def _map_unique(values: pa.ChunkedArray | pa.Array, func) -> pa.Array:
    """Apply ``func`` to each distinct non-null string once and map the results back (dictionary trick)."""
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    dictionary = encoded.dictionary.to_pylist()
    mapped = pa.array([func(v) for v in dictionary], type=pa.string())
    return pc.take(mapped, encoded.indices)


def hash_addresses(values: pa.ChunkedArray | pa.Array, key: bytes) -> pa.Array | pa.ChunkedArray:
    """Replace values that are wholly an address (e-mail, IP) by ``email:<hash>`` / ``ip:<hash>``."""
    if len(values) == 0 or values.null_count == len(values):
        return values
    is_address = pc.match_substring_regex(values, _WHOLE_ADDRESS)
    if not pc.any(is_address).as_py():
        return values

    def one(v: str) -> str:
        stripped = v.strip()
        if "@" in stripped or " at " in stripped:
            normal = stripped.lower().replace(" at ", "@")
            return "email:" + pseudonym(key, normal)
        return "ip:" + pseudonym(key, stripped.lower())

    hashed = _map_unique(pc.if_else(is_address, values, pa.scalar(None, pa.string())), one)
    return pc.if_else(is_address, hashed, values)


def pseudonymise(values: pa.ChunkedArray | pa.Array, key: bytes) -> pa.Array:
    """Replace every non-null value by its keyed pseudonym (HMAC-SHA256, 16 hex digits)."""
    if len(values) == 0 or values.null_count == len(values):
        return values if isinstance(values, pa.Array) else values.combine_chunks()
    return _map_unique(values, lambda v: pseudonym(key, v))
