"""The public surface of ``import binance``: every name in ``__all__`` resolves."""

from __future__ import annotations

import binance


def test_every_exported_name_resolves_to_its_object():
    """Each lazily exported name imports and is the object its module defines."""
    for name in binance.__all__:
        if name == "__version__":
            continue
        value = getattr(binance, name)
        assert value.__name__ == name


def test_unknown_attribute_raises_attribute_error():
    """A missing name is an AttributeError, not an ImportError or None."""
    try:
        binance.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("binance.NoSuchThing resolved")
