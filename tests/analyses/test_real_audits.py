"""Audits of real third-party data (counts from /work/shared/data/README.md): sane tiers, rates and intervals."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from permadani import Dataset, audit

CORE = ("tiers", "responsiveness", "accounts")


def _check_sane(summary: dict, n_active: int) -> dict:
    tiers = summary["sections"]["tiers"]
    counts = tiers["counts"]
    assert sum(counts.values()) == n_active
    assert counts["upper"] == math.ceil(0.01 * n_active - 1e-9)
    assert counts["upper"] + counts["middle"] == math.ceil(0.10 * n_active - 1e-9)
    resp = summary["sections"]["responsiveness"]
    assert resp["answered"] <= resp["replies"]
    assert sum(m["replies"] for m in resp["matrix"] if m["from"] != "newcomer") == resp["replies"]
    for m in resp["matrix"]:
        if m["replies"]:
            assert 0 <= m["ci_low"] <= m["rate"] <= m["ci_high"] <= 1, m
    lat = resp["latency_hours"]
    assert 0 <= lat["median"] <= lat["p90"] <= 24 * summary["params"]["window_days"]
    return resp


def test_stackexchange_cardano(real_dataset: Callable[[str], Dataset]) -> None:
    result = audit(real_dataset("stackexchange"), n_boot=100, sections=CORE)
    s = result.summary
    assert s["sections"]["tiers"]["measure"] == "reputation"
    tiers = result.table("tiers")
    assert max(tiers.column("status").to_pylist()) == 5519.0  # README: Users.Reputation max 5,519
    resp = _check_sane(s, tiers.num_rows)
    assert resp["replies"] > 1000 and resp["self_replies"] > 0  # askers comment on answers to their question
    assert s["sections"]["accounts"]["top"][0]["status"] == 5519.0


@pytest.mark.slow
def test_twitter_pheme(real_dataset: Callable[[str], Dataset]) -> None:
    result = audit(real_dataset("twitter"), n_boot=100, sections=CORE)
    s = result.summary
    assert s["sections"]["tiers"]["measure"] == "followers"
    tiers = result.table("tiers")
    assert tiers.num_rows == 3884  # README: 3,884 users, all of them authors
    statuses = sorted(tiers.column("status").to_pylist())
    assert statuses[-1] == pytest.approx(44.05e6, rel=0.01)  # README: followers max 44M
    assert statuses[len(statuses) // 2] == pytest.approx(464, rel=0.1)  # README: median 464 (over tweets' users)
    resp = _check_sane(s, 3884)
    assert resp["replies"] > 4000  # 5,264 of 5,267 reply links resolve; a few are self-replies


@pytest.mark.slow
def test_reddit_pushshift(real_dataset: Callable[[str], Dataset]) -> None:
    result = audit(real_dataset("reddit"), n_boot=100, sections=CORE)
    s = result.summary
    assert s["sections"]["tiers"]["measure"] == "reputation"  # no karma in comments: sum of scores
    resp = _check_sane(s, result.table("tiers").num_rows)
    assert resp["replies"] + resp["self_replies"] <= 1648  # README: 1,648 comment→comment parents resolve
