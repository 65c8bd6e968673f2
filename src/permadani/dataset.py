"""A thin handle on a dataset folder: where its Parquet files are, and its manifest. It holds no rows.

Layout::

    DATASET/
      manifest.json        sources, adapter versions, schema version, counts per source
      posts/part-*.parquet canonical posts (schema.POSTS)
      accounts.parquet     canonical accounts (schema.ACCOUNTS), one row per (platform, author_id)
      rejects.parquet      every record that could not be kept, with a reason code (schema.REJECTS)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError
from .schema import SCHEMA_VERSION

MANIFEST = "manifest.json"
POSTS_DIR = "posts"
ACCOUNTS_FILE = "accounts.parquet"
REJECTS_FILE = "rejects.parquet"


@dataclass(frozen=True)
class Dataset:
    """A canonical dataset on disk (see module docstring for the layout)."""

    path: Path
    manifest: dict[str, Any]

    @classmethod
    def open(cls, path: str | Path) -> Dataset:
        """Open a dataset folder; InputError when it is not one or its schema version is unknown."""
        root = Path(path)
        manifest_path = root / MANIFEST
        if not manifest_path.is_file():
            raise InputError(
                "not a permadani dataset (no manifest.json)",
                path=root,
                hint="Create one with 'permadani ingest SOURCE... -o DATASET'",
            )
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"manifest.json is damaged ({exc})", path=manifest_path,
                             hint="Re-run the ingest that made this dataset") from exc
        version = str(manifest.get("schema_version", ""))
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise InputError(
                f"dataset schema version {version!r} is not supported (this permadani reads {SCHEMA_VERSION})",
                path=root, hint="Re-ingest the sources with this version of permadani",
            )
        return cls(path=root, manifest=manifest)

    @property
    def posts_glob(self) -> str:
        return str(self.path / POSTS_DIR / "*.parquet")

    @property
    def posts_files(self) -> list[Path]:
        return sorted((self.path / POSTS_DIR).glob("*.parquet"))

    @property
    def accounts_path(self) -> Path:
        return self.path / ACCOUNTS_FILE

    @property
    def rejects_path(self) -> Path:
        return self.path / REJECTS_FILE

    @property
    def parameters(self) -> dict[str, Any]:
        """Generator parameters (planted effects) for synthetic datasets; empty otherwise."""
        return dict(self.manifest.get("parameters") or {})

    @property
    def platform(self) -> str | None:
        """The platform of every post when they all have the same (non-null) one, by the manifest's counts;
        else None."""
        platforms = self.manifest.get("platforms") or {}
        if len(platforms) != 1:
            return None
        ((name, count),) = platforms.items()
        whole = name not in ("null", "") and count == (self.manifest.get("counts") or {}).get("posts")
        return str(name) if whole else None

    @property
    def one_platform(self) -> bool:
        """True when every post has the same (non-null) platform (``platform``): joins on ``(platform, key)`` may
        then use ``key`` alone."""
        return self.platform is not None

    def info(self) -> dict[str, Any]:
        """Summary for ``permadani info``: counts, platforms, time span, and accounting per source."""
        counts = self.manifest.get("counts", {})
        return {
            "dataset": str(self.path),
            "schema_version": self.manifest.get("schema_version"),
            "posts": counts.get("posts", 0),
            "accounts": counts.get("accounts", 0),
            "threads": counts.get("threads", 0),
            "authors": counts.get("authors", 0),
            "rejects": counts.get("rejects", 0),
            "platforms": self.manifest.get("platforms", {}),
            "communities": counts.get("communities", 0),
            "first_post_at": self.manifest.get("first_post_at"),
            "last_post_at": self.manifest.get("last_post_at"),
            "pseudonymised": bool(self.manifest.get("pseudonymised")),
            "sources": [
                {k: s.get(k) for k in ("path", "format", "read", "kept", "duplicates", "rejected")}
                for s in self.manifest.get("sources", [])
            ],
        }
