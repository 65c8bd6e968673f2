"""Adapters: one module per source format, registered here in sniffing order (see ``base`` for the contract)."""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

from ..errors import InputError, UsageError
from .base import Adapter, Batch, BatchBuilder, Probe

#: Modules that define adapters. A module may define several (each a subclass of ``Adapter`` with a ``name``).
ADAPTER_MODULES: tuple[str, ...] = (
    "generic",
    "reddit_pushshift", "reddit_api",
    "stackexchange",
    "twitter",
    "twitter_v2",
    "wordpress", "disqus", "email", "convokit", "wikiconv",
    "mastodon", "bluesky", "facebook", "linkedin", "googleplus", "twitter_archive",
)

__all__ = ["ADAPTER_MODULES", "Adapter", "Batch", "BatchBuilder", "Probe", "adapter_for", "registry", "sniff"]


@cache
def registry() -> dict[str, type[Adapter]]:
    """Every registered adapter class by ``name``, in sniffing order (priority, then name)."""
    found: list[type[Adapter]] = []
    for module_name in ADAPTER_MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, Adapter) and value is not Adapter
                    and getattr(value, "name", None) and value.__module__ == module.__name__):
                found.append(value)
    found.sort(key=lambda cls: (cls.priority, cls.name))
    return {cls.name: cls for cls in found}


def adapter_for(name: str) -> type[Adapter]:
    """The adapter class for ``--format name``; UsageError listing the choices when unknown."""
    adapters = registry()
    if name not in adapters:
        raise UsageError(f"unknown format {name!r}; choose one of: {', '.join(sorted(adapters))}")
    return adapters[name]


def sniff(path: Path) -> type[Adapter]:
    """The first adapter (in sniffing order) that recognises ``path``; InputError when none does."""
    probe = Probe.of(path)
    for cls in registry().values():
        if cls.sniff(probe):
            return cls
    raise InputError(
        "cannot recognise the format of this source",
        path=path,
        hint=f"Force one with --format; known formats: {', '.join(sorted(registry()))}",
    )
