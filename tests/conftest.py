"""Shared fixtures: the real third-party data folder (skips with a reason when absent), fixture paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLE = ROOT / "src" / "permadani" / "data" / "sample"


def shared_data_root() -> Path:
    """``$PERMADANI_SHARED_DATA`` or ``../shared/data`` next to the repository."""
    env = os.environ.get("PERMADANI_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder; tests using it skip (with the reason) on a user's fresh clone without it."""
    root = shared_data_root()
    if not root.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared data folder {root} is missing on CI; set PERMADANI_SHARED_DATA")
        pytest.skip(f"shared data folder {root} not present (set PERMADANI_SHARED_DATA to run real-data tests)")
    return root


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(autouse=True)
def _address_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed address-hashing key, so tests never write a key file into the user's home."""
    monkeypatch.setenv("PERMADANI_KEY", "test-key")
