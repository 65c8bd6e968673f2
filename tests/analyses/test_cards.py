"""Account cards: hand-computed on the hand-built thread; lookup by id and display name; errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from permadani import Dataset, InputError, account, audit

HAND = {"status": "attention", "upper": 0.25, "middle": 0.25, "newcomer_days": 0, "newcomer_posts": 1}


def test_card_of_the_star(hand_dataset: Dataset) -> None:
    card = account(hand_dataset, "A", **HAND)
    assert (card["tier"], card["status"], card["percentile"]) == ("upper", 3.0, 0.75)
    # A wrote p1, a1, s1, a2 → 4 posts; replies to others: a1, a2 → share 0.5
    assert (card["posts"], card["replies_written"], card["self_replies"], card["reply_share"]) == (4, 2, 1, 0.5)
    # received r1, r2, r3, b1, c1 from B, C, D; answered r1 only (a2 came 8 days late)
    assert (card["replies_received"], card["distinct_repliers"], card["reply_back_rate"]) == (5, 3, 0.2)
    assert card["reply_back_by_tier"] == {"upper": None, "middle": 0.5, "lower": 0.0, "newcomer": pytest.approx(1 / 3)}
    assert card["latency_hours"] == {"median": 2.0, "p90": 2.0}
    assert card["percentile_in_tier"] == 0.0  # alone in its tier


def test_card_of_a_lower_account(hand_dataset: Dataset) -> None:
    card = account(hand_dataset, "C", **HAND)
    # C: r2, c1; received a2 from A (upper), answered by c1 after 1 h
    assert (card["tier"], card["posts"], card["replies_received"], card["reply_back_rate"]) == ("lower", 2, 1, 1.0)
    assert card["reply_back_by_tier"]["upper"] == 1.0
    assert card["percentile_in_tier"] == 0.5  # C (1) above D (0) in the lower tier


def test_lookup_by_display_name_and_missing(synth_dataset: Callable[..., Dataset]) -> None:
    ds = synth_dataset(seed=21, accounts=200, threads=100, months=2)
    card = account(ds, "u00007")
    assert card["author_id"] == "u00007" and card["matches"] == [{"platform": "synthetic", "author_id": "u00007"}]
    with pytest.raises(InputError, match="no active account"):
        account(ds, "nobody-here")


def test_top_cards_in_audit(hand_dataset: Dataset) -> None:
    result = audit(hand_dataset, n_boot=10, **HAND)
    top = result.summary["sections"]["accounts"]["top"]
    assert [c["author_id"] for c in top] == ["A", "B", "C", "D"]  # by status, ties by id
    stats = {r["author_id"]: r for r in result.table("account_stats").to_pylist()}
    assert stats["B"]["reply_back_rate"] == 1.0 and stats["D"]["reply_back_rate"] is None
    assert "<table>" in result._repr_html_()
