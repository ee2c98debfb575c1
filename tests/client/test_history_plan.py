"""The kline window planner: contiguous, disjoint, exact boundaries, at most `limit` per window."""

from __future__ import annotations

import pytest

from binance.helpers import interval_to_milliseconds
from binance.history import Window, plan_windows

DAY = 86_400_000


@pytest.mark.parametrize("interval", ["1s", "1m", "3m", "1h", "1d", "3d", "1w"])
@pytest.mark.parametrize("limit", [1, 7, 1000])
def test_windows_tile_the_range(interval, limit):
    """Windows start at start, end at end, touch without overlap, each spans limit intervals."""
    step = interval_to_milliseconds(interval)
    start, end = 1_500_000_123, 1_500_000_123 + 3 * step * limit + step // 2
    windows = plan_windows(start, end, step, limit)
    assert windows[0].start_ms == start and windows[-1].end_ms == end
    for before, after in zip(windows, windows[1:], strict=False):
        assert after.start_ms == before.end_ms + 1
    for window in windows[:-1]:
        assert window.end_ms - window.start_ms + 1 == step * limit


def test_a_span_never_holds_more_than_limit_open_times_whatever_the_alignment():
    """Weekly klines open on Mondays (epoch + 4 days): still at most `limit` per window."""
    week = 7 * DAY
    opens = [4 * DAY + k * week for k in range(500)]
    for window in plan_windows(opens[0] - 5, opens[-1] + 5, week, 10):
        inside = [t for t in opens if window.start_ms <= t <= window.end_ms]
        assert len(inside) <= 10
    covered = [
        t
        for window in plan_windows(opens[0] - 5, opens[-1] + 5, week, 10)
        for t in opens
        if window.start_ms <= t <= window.end_ms
    ]
    assert covered == opens


def test_one_year_of_minutes_is_526_windows():
    """525,600 one-minute klines make 526 requests of 1000."""
    start = 1_672_531_200_000  # 2023-01-01
    windows = plan_windows(start, start + 525_600 * 60_000 - 1, 60_000, 1000)
    assert len(windows) == 526
    assert windows[-1] == Window(start + 525 * 60_000_000, start + 525_600 * 60_000 - 1)


def test_empty_and_invalid():
    assert plan_windows(10, 9, 1, 1) == []
    with pytest.raises(ValueError):
        plan_windows(0, 1, 0, 1)
