"""Writers that turn a canonical dataset into other tools' formats (ConvoKit corpora, ...)."""

from __future__ import annotations

from .convokit import CorpusSummary, write_corpus

__all__ = ["CorpusSummary", "write_corpus"]
