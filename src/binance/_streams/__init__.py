"""The stream layer's internals: `rules` decides (no I/O), `conn` runs asyncio connections.

Public entry points are :mod:`binance.streams` (async) and :mod:`binance.websockets` (the seed's
thread-based ``BinanceSocketManager``). Nothing here imports the client or the simulator.
"""
