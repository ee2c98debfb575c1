"""Build hook for the optional C accelerator of the order book (``binance._cbook``).

All metadata lives in pyproject.toml. The extension is optional: without a C compiler the
build goes on and `binance.orderbook` uses its pure-Python implementation.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("binance._cbook", ["src/binance/_cbook.c"], optional=True)])
