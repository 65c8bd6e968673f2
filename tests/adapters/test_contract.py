"""The adapter contract, checked for every registered adapter (like scikit-learn's ``check_estimator``).

(a) garbage forced through an adapter raises nothing but ``PermadaniError`` subclasses, and whatever it yields
    keeps the accounting and the canonical schemas; (b) ``sniff`` never crashes on foreign files;
(c) every adapter declares name, platform, version, description, a frozen ``Options`` dataclass, and its
module has a docstring. New adapters are covered as soon as they are registered.
"""

from __future__ import annotations

import dataclasses
import random
import sys
from pathlib import Path

import pytest
import zstandard

from permadani.adapters import registry
from permadani.adapters.base import Adapter, Probe
from permadani.errors import PermadaniError
from permadani.schema import ACCOUNTS, POSTS, REJECTS
from tests.conftest import SAMPLE

ADAPTERS = sorted(registry())


def _garbage(folder: Path) -> list[Path]:
    """Random bytes under several names, random text with JSON/XML/CSV punctuation, a truncated zstd stream."""
    rng = random.Random(20240607)
    noise = bytes(rng.getrandbits(8) for _ in range(6_000))
    alphabet = '{}[]<>/="\',:;\n\t abcdefghijklmnopqrstuvwxyz0123456789-_.\\@#&'
    text = "".join(rng.choice(alphabet) for _ in range(6_000)).encode()
    jsonish = b"\n".join([b'{"id": "1", "created_utc": 5, "subreddit": "x", "body": "y"}', b"[1, 2", b"{\"kind\": "]
                         * 50)
    compressed = zstandard.ZstdCompressor().compress(text + jsonish)
    files = {
        "random.bin": noise, "random.json": noise, "random.xml": noise, "random.csv": noise,
        "text.jsonl": text, "text.xml": text, "text.csv": text, "text.json": text,
        "truncated.zst": compressed[: len(compressed) // 2],
        "jsonish.ndjson": jsonish,
        "deep.json": b"[" * 200_000,
        "deep.xml": b"<a>" * 200_000,
    }
    paths = []
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def garbage(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _garbage(tmp_path_factory.mktemp("garbage"))


@pytest.mark.parametrize("name", ADAPTERS)
def test_garbage_raises_only_permadani_errors(name: str, garbage: list[Path]) -> None:
    cls = registry()[name]
    for path in garbage:
        adapter = cls(cls.Options())
        try:
            for batch in adapter.read(path):
                batch.check()
                assert batch.posts.schema.equals(POSTS), (name, path.name, "posts schema")
                assert batch.accounts.schema.equals(ACCOUNTS), (name, path.name, "accounts schema")
                assert batch.rejects.schema.equals(REJECTS), (name, path.name, "rejects schema")
                assert batch.read >= 0 and batch.source
        except PermadaniError as exc:
            assert str(exc), (name, path.name)


@pytest.mark.parametrize("name", ADAPTERS)
def test_sniff_does_not_crash_on_foreign_files(name: str, tmp_path: Path, garbage: list[Path]) -> None:
    cls = registry()[name]
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "note.txt").write_text("hello\n")
    for path in [SAMPLE / "tiny-forum.csv", empty, folder, garbage[0], garbage[-2]]:
        assert cls.sniff(Probe.of(path)) in (True, False), (name, path.name)
    assert not cls.sniff(Probe.of(empty)), f"{name} claims an empty file"
    assert not cls.sniff(Probe.of(garbage[0])), f"{name} claims random bytes"


@pytest.mark.parametrize("name", ADAPTERS)
def test_adapter_declares_its_contract(name: str) -> None:
    cls = registry()[name]
    assert issubclass(cls, Adapter) and cls.name == name
    for attribute in ("name", "platform", "version", "description"):
        value = getattr(cls, attribute, None)
        assert isinstance(value, str) and value.strip(), f"{name}: {attribute} missing"
    assert dataclasses.is_dataclass(cls.Options), f"{name}: Options is not a dataclass"
    assert cls.Options.__dataclass_params__.frozen, f"{name}: Options is not frozen"  # type: ignore[attr-defined]
    cls.Options()  # every option has a default
    assert (sys.modules[cls.__module__].__doc__ or "").strip(), f"{name}: module {cls.__module__} has no docstring"
    assert (cls.__doc__ or "").strip(), f"{name}: class has no docstring"
