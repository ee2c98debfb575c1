"""Depth caches: the seed's `DepthCache`, a local order book for one symbol.

`DepthCache` keeps the seed's interface (``add_bid``, ``add_ask``, ``get_bids``, ``get_asks``,
``symbol``, ``update_time``) over a `binance.orderbook.OrderBook`: sorted levels with cheap
updates and O(k) reads of the best ``k`` levels, so ``get_bids(5)`` never sorts the book.

The sequencing rules (snapshot + diff events, NOTES.md section 10) live in
`binance._depthsync.DepthSync`; this module only carries messages between it, the streams and
the client. It does no I/O itself beyond what the manager's streams and client do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from binance.orderbook import Level, OrderBook

__all__ = ["DepthCache"]


class DepthCache:
    """The order book of one symbol, as the seed's ``DepthCacheManager`` hands it to callbacks.

    Prices and quantities come back as floats, as in the seed, or as `Decimal` (exact) with
    ``use_decimal=True``.

    Example::

        cache = DepthCache("BNBBTC")
        cache.add_bid(["0.0001946", "45.0"])
        cache.add_ask(["0.0001955", "57.0"])
        cache.get_bids()      # [[0.0001946, 45.0]]
        cache.get_asks(5)     # the best five asks, lowest first

    Args:
        symbol: Symbol this cache is for, e.g. ``"BNBBTC"``.
        use_decimal: Return `Decimal` prices and quantities instead of floats.
    """

    def __init__(self, symbol: str, *, use_decimal: bool = False) -> None:
        self.symbol: str = symbol
        """The symbol, as given."""
        self.use_decimal: bool = use_decimal
        """Reads return `Decimal` values when True, floats otherwise."""
        self.update_time: int | None = None
        """Event time (ms) of the last applied depth event, None before the first."""
        self.last_update_id: int | None = None
        """Binance's update id the book reflects (``lastUpdateId`` / ``u``), if known."""
        self.book: OrderBook = OrderBook()
        """The underlying `OrderBook` (for readers that want more than the seed's API)."""

    def add_bid(self, bid: Sequence[Any]) -> None:
        """Set a bid level from a ``[price, quantity]`` pair; a zero quantity removes the level.

        Args:
            bid: ``[price, quantity]`` as Binance sends it (``["0.0024", "10"]``); numbers are
                accepted too.
        """
        self.book.bids.set(bid[0], bid[1])

    def add_ask(self, ask: Sequence[Any]) -> None:
        """Set an ask level from a ``[price, quantity]`` pair; a zero quantity removes the level.

        Args:
            ask: ``[price, quantity]`` as Binance sends it; numbers are accepted too.
        """
        self.book.asks.set(ask[0], ask[1])

    def get_bids(self, limit: int | None = None) -> list[Level]:
        """The bids, highest price first, as ``[price, quantity]`` lists.

        Args:
            limit: Return only the best ``limit`` levels (O(limit)); all levels if None (O(n)).

        Returns:
            ``[[0.0001946, 45.0], [0.00019459, 2384.0], ...]`` (floats, or Decimal with
            ``use_decimal``). Levels past the range the last snapshot vouched for are left out.
        """
        return self.book.bids.top(limit, decimal=self.use_decimal)

    def get_asks(self, limit: int | None = None) -> list[Level]:
        """The asks, lowest price first, as ``[price, quantity]`` lists.

        Args:
            limit: Return only the best ``limit`` levels (O(limit)); all levels if None (O(n)).

        Returns:
            ``[[0.0001955, 57.0], [0.00019699, 778.0], ...]`` (floats, or Decimal with
            ``use_decimal``). Levels past the range the last snapshot vouched for are left out.
        """
        return self.book.asks.top(limit, decimal=self.use_decimal)

    @staticmethod
    def sort_depth(
        vals: Mapping[Any, Any] | Iterable[Sequence[Any]], reverse: bool = False
    ) -> list[list[float]]:
        """Sort bids or asks by price (the seed's helper): ``[price, quantity]`` float lists.

        Args:
            vals: ``{price: quantity}`` or ``[price, quantity]`` pairs; strings or numbers.
            reverse: Highest price first (bids) instead of lowest first.
        """
        pairs = vals.items() if isinstance(vals, Mapping) else vals
        rows = [(Decimal(str(p)), float(p), float(q)) for p, q in pairs]
        rows.sort(key=lambda row: row[0], reverse=reverse)
        return [[price, qty] for _, price, qty in rows]

    def __repr__(self) -> str:
        return (
            f"<DepthCache {self.symbol} bid={self.book.best_bid()!r} "
            f"ask={self.book.best_ask()!r} update_time={self.update_time}>"
        )


# DepthCacheManager (the seed's manager: stream + client + DepthSync + refresh_interval + callback)
# belongs here and is written with the streams: it feeds `binance._depthsync.DepthSync`, built with
# ``book=cache.book``, then copies ``sync.last_update_id`` / ``sync.last_event_time`` into
# ``cache.last_update_id`` / ``cache.update_time`` and calls back with the cache (or None after a
# Resync, as the seed did when the cache broke).
