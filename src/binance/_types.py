"""Type aliases for the shapes the public API accepts and returns.

No I/O here; imports nothing from the package.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any, Union

__all__ = ["Json", "NumberLike", "DateLike", "Params"]

#: A decoded JSON answer: dicts, lists, strings, numbers (numbers stay as Binance sent them).
Json = Any

#: Anything we accept as a price or a quantity. It goes on the wire as a plain decimal string,
#: never in scientific notation (floats are converted through their shortest ``repr``).
NumberLike = Union[Decimal, int, float, str]  # noqa: UP007 (runtime alias, py3.10)

#: A point in time: milliseconds since the epoch, a ``datetime``/``date`` (naive = UTC), or one
#: of the date strings `binance.helpers.date_to_milliseconds` understands.
DateLike = Union[int, str, _dt.datetime, _dt.date]  # noqa: UP007

#: Wire parameters: Binance's names to Python values.
Params = dict[str, Any]
