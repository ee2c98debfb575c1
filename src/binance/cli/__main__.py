"""``python -m binance.cli``: the ``binance`` command without the console script."""

from __future__ import annotations

import sys

from binance.cli import main

sys.exit(main())
