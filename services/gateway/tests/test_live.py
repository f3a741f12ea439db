"""Live state: newest per subject and source, NATS wildcards, never moving backwards."""

from datetime import UTC, datetime, timedelta

import pytest

from cryptohub.common import subjects
from cryptohub.common.events import Event, PriceTick, encode
from cryptohub.gateway.feed import FeedMessage
from cryptohub.gateway.live import LiveState, subject_matches

T0 = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def message(event: Event, seq: int) -> FeedMessage:
    return FeedMessage(
        subject=subjects.subject_for(event),
        event=event,
        raw=encode(event),
        stream="MARKET",
        seq=seq,
        published_at=T0 + timedelta(seconds=seq),
    )


def _retimed(symbol: str, source: str, moment: datetime, price: float) -> Event:
    return PriceTick(
        symbol=symbol, price=price, source=source, observed_at=moment, received_at=moment
    )


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("a.b.c", "a.b.c", True),
        ("a.*.c", "a.b.c", True),
        ("a.*", "a.b.c", False),
        ("a.>", "a.b.c", True),
        ("a.>", "a", False),
        ("a.b.>", "a.b", False),
        ("*.*.*", "a.b.c", True),
        ("a.b", "a.b.c", False),
    ],
)
def test_subject_matching_follows_nats(pattern: str, subject: str, expected: bool) -> None:
    assert subject_matches(pattern, subject) is expected


def test_gt_only_at_the_end() -> None:
    with pytest.raises(ValueError, match="only end"):
        subject_matches("a.>.c", "a.b.c")


def test_latest_per_subject_and_per_source() -> None:
    live = LiveState()
    live.apply(message(_retimed("btc", "consensus", T0, 1.0), 1))
    live.apply(message(_retimed("btc", "binance", T0 + timedelta(seconds=1), 2.0), 2))
    live.apply(message(_retimed("eth", "consensus", T0, 3.0), 3))
    latest = live.latest(subjects.price("btc"))
    assert latest is not None
    assert latest.event.source == "binance"
    assert set(live.by_source(subjects.price("btc"))) == {"consensus", "binance"}
    assert [m.subject for m in live.matching(subjects.all_prices())] == [
        subjects.price("btc"),
        subjects.price("eth"),
    ]
    assert live.matching(subjects.price("eth"))[0].seq == 3
    assert live.matching(subjects.price("doge")) == []
    assert live.matching("cryptohub.v1.chain.>") == []


def test_older_data_never_replaces_newer() -> None:
    live = LiveState()
    newer = message(_retimed("btc", "consensus", T0 + timedelta(seconds=10), 2.0), 5)
    older = message(_retimed("btc", "consensus", T0, 1.0), 9)  # e.g. warmed after the feed
    live.apply(newer)
    assert live.warm([older]) == 1
    held = live.latest(subjects.price("btc"))
    assert held is not None
    assert held.event.observed_at == T0 + timedelta(seconds=10)
