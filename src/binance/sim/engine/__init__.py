"""The simulator's trading engine: markets, matching, accounts and background market, no I/O.

Everything under ``binance.sim.engine`` is plain Python over ``Decimal`` with the clock passed in;
it must not import asyncio, aiohttp, json or the client. The facade is
:class:`binance.sim.engine.exchange.Exchange`. This module holds only :class:`EngineError`, so any
engine module can import it without import cycles.
"""

from __future__ import annotations

from binance.errorcodes import ErrorCode

__all__ = ["EngineError"]


class EngineError(Exception):
    """A request the engine refused, carrying Binance's error code and the message to send.

    Adapters render it as ``error.payload(message)`` with HTTP status ``error.http_status``.

    Args:
        error: the Binance error (from :mod:`binance.errorcodes`).
        message: the exact message to send; ``None`` means ``error.message``.
    """

    def __init__(self, error: ErrorCode, message: str | None = None) -> None:
        self.error = error
        """The Binance error code object."""
        self.message = message if message is not None else error.message
        """The message actually sent to the caller."""
        super().__init__(error.code, self.message)

    @property
    def code(self) -> int:
        """Binance's numeric error code (negative)."""
        return self.error.code

    def payload(self) -> dict[str, object]:
        """The JSON body Binance sends for this error: ``{"code": ..., "msg": ...}``."""
        return self.error.payload(self.message)

    def __str__(self) -> str:
        return f"{self.error.code} {self.message}"

    def __repr__(self) -> str:
        return f"EngineError({self.error.name}, {self.message!r})"
