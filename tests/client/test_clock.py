"""Server-clock offset: round-trip correction, best sample wins, invalidation by generation."""

from __future__ import annotations

from binance._clock import ServerClock


def test_unsynced_clock_trusts_the_wall_clock():
    """Before any measurement the estimate is wall time."""
    clock = ServerClock(wall_ms=1_000_000, mono_ms=500)
    assert clock.server_ms(600) == 1_000_100
    assert clock.needs_sync(600)


def test_offset_is_corrected_by_half_the_round_trip():
    """Sent at 100, received at 140, server said 10_020: the server is 9_900 ahead."""
    clock = ServerClock(wall_ms=0, mono_ms=0)
    clock.observe(100, 10_020, 140)
    assert clock.offset_ms == 9_900
    assert clock.uncertainty_ms == 20
    assert clock.server_ms(200) == 10_100
    assert not clock.needs_sync(200)


def test_a_sloppier_sample_does_not_replace_a_fresh_one():
    """NTP's rule: the shortest round trip wins while the estimate is fresh."""
    clock = ServerClock(wall_ms=0, mono_ms=0)
    clock.observe(100, 10_020, 140)
    clock.observe(200, 99_999, 400)  # 200 ms round trip
    assert clock.offset_ms == 9_900
    clock.observe(300, 10_205, 310)  # 10 ms round trip: better
    assert clock.offset_ms == 9_900


def test_stale_after_max_age():
    """An old measurement is re-taken."""
    clock = ServerClock(max_age_ms=1_000, wall_ms=0, mono_ms=0)
    clock.observe(0, 50, 10)
    assert not clock.needs_sync(900)
    assert clock.needs_sync(1_011)


def test_invalidate_once_per_generation():
    """Many -1021s from one stale estimate invalidate it once."""
    clock = ServerClock(wall_ms=0, mono_ms=0)
    clock.observe(0, 50, 10)
    generation = clock.generation
    clock.invalidate(generation)
    assert clock.needs_sync(20)
    clock.observe(30, 1_000, 40)
    clock.invalidate(generation)  # a late -1021 from before the re-sync: ignored
    assert not clock.needs_sync(50)
    assert clock.offset_ms == 965
