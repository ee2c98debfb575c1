"""The exception tree: one base, the seed's names and attributes, local errors are ValueErrors."""

from __future__ import annotations

import pickle

import pytest

from binance import exceptions as X


def test_one_base_for_everything():
    """Every public exception class derives from BinanceError."""
    for name in X.__all__:
        cls = getattr(X, name)
        assert issubclass(cls, X.BinanceError), name


@pytest.mark.parametrize(
    "cls",
    [
        X.BinanceOrderMinAmountException,
        X.BinanceOrderMinPriceException,
        X.BinanceOrderMinTotalException,
        X.BinanceOrderUnknownSymbolException,
        X.BinanceOrderInactiveSymbolException,
    ],
)
def test_seed_order_exceptions(cls):
    """The seed's subclasses take (value), are BinanceOrderException and ValueError."""
    exc = cls("quantity 0.0001 below minQty 0.001", filter_type="LOT_SIZE")
    assert isinstance(exc, X.BinanceOrderException)
    assert isinstance(exc, ValueError)
    assert exc.filter_type == "LOT_SIZE"


def test_order_exception_names_the_filter():
    exc = X.BinanceOrderMinAmountException("too small", filter_type="LOT_SIZE")
    assert exc.code == -1013
    assert exc.message == "Filter failure: LOT_SIZE"
    assert "LOT_SIZE" in str(exc) and "too small" in str(exc)
    assert X.BinanceOrderTotalPriceException is X.BinanceOrderMinTotalException


def test_api_exception_attributes_and_pickling():
    exc = X.BinanceRateLimitException(
        None, 429, code=-1003, message="Too much", request=None, retry_after=12.0
    )
    clone = pickle.loads(pickle.dumps(exc))
    assert (clone.status_code, clone.code, clone.message, clone.retry_after) == (
        429,
        -1003,
        "Too much",
        12.0,
    )
    assert isinstance(exc, X.BinanceAPIException)


def test_transport_exceptions_are_also_builtin_kinds():
    """Callers catching ConnectionError or TimeoutError catch ours too."""
    assert isinstance(X.BinanceConnectionException("x"), ConnectionError)
    assert isinstance(X.BinanceTimeoutException("x"), TimeoutError)


def test_order_status_unknown_carries_the_client_order_id():
    exc = X.BinanceOrderStatusUnknownException("abc123", "BNBBTC", TimeoutError("t"))
    assert exc.client_order_id == "abc123" and exc.symbol == "BNBBTC"
    assert "abc123" in str(exc)


def test_tree_is_drawn_in_the_docstring():
    for name in X.__all__:
        if not name.startswith("_"):
            assert name in X.__doc__, name


def test_seed_constructor_forms():
    """The seed's one-argument constructors still work."""
    assert X.BinanceWithdrawException("Invalid address").message == "Invalid address"
    assert X.BinanceRequestException("not json").message == "not json"
    assert X.BinanceOrderException(-1013, "Filter failure: LOT_SIZE").code == -1013
