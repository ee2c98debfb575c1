"""Stream throughput into a callback, and memory under a too-slow consumer: us vs python-binance.

Two measurements, each run against the same loopback publisher for both libraries:

1. **Throughput.** A publisher process floods one trade stream (pre-rendered Binance ``trade``
   payloads, sent as fast as the socket takes them) and we count messages per second arriving in
   a plain callback: our ``BinanceSocketManager`` vs python-binance 1.0.37's
   ``ThreadedWebsocketManager`` (run in the peers' venv, see ``_peers.py``).
2. **A 10x-too-slow consumer.** The publisher sends at a fixed rate for a few seconds; the
   callback takes ten times the inter-message time. We report the process's peak RSS growth,
   how many messages reached the callback, gap events, and how stale the last delivered message
   was (its publish time vs now): a bounded queue keeps memory flat and data fresh.

The publisher is written here (a few dozen lines of asyncio, raw WebSocket frames) so that it can
outrun both clients; the simulator's streams are paced like Binance's and cannot. It binds
127.0.0.1 only and stops when the run ends.

Run: ``.venv/bin/python benchmarks/bench_sockets.py [--messages 300000] [--skip-peers]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
STREAM = "bnbbtc@trade"


# -- the publisher (runs in its own process) -------------------------------------------------------
def _frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return bytes((0x81, 126)) + n.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + n.to_bytes(8, "big") + payload


def _trade(trade_id: int, now_ms: int, combined: bool) -> bytes:
    data = (
        f'{{"e":"trade","E":{now_ms},"s":"BNBBTC","t":{trade_id},"p":"0.00947700",'
        f'"q":"1.13400000","T":{now_ms},"m":false,"M":true}}'
    )
    if combined:
        data = f'{{"stream":"{STREAM}","data":{data}}}'
    return data.encode()


async def _read_client_frames(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    # Answer pings and the closing handshake; ignore everything else the client sends.
    try:
        while True:
            head = await reader.readexactly(2)
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126:
                length = int.from_bytes(await reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await reader.readexactly(8), "big")
            mask = await reader.readexactly(4) if head[1] & 0x80 else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(await reader.readexactly(length)))
            if opcode == 0x9:
                writer.write(bytes((0x8A, len(data))) + data)
            elif opcode == 0x8:
                writer.write(b"\x88\x02\x03\xe8")
                await writer.drain()
                writer.close()
                return
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def _serve_client(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, mode: str, count: int, rate: float
) -> None:
    request = await reader.readuntil(b"\r\n\r\n")
    lines = request.decode("latin-1").split("\r\n")
    combined = lines[0].split(" ")[1].startswith("/stream")
    key = next(
        x.split(":", 1)[1].strip() for x in lines if x.lower().startswith("sec-websocket-key")
    )
    accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
    writer.write(
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
        ).encode()
    )
    control = asyncio.ensure_future(_read_client_frames(reader, writer))
    try:
        if mode == "flood":
            chunk = 2000
            for start in range(1, count + 1, chunk):
                now = time.time_ns() // 1_000_000
                ids = range(start, min(start + chunk, count + 1))
                writer.write(b"".join(_frame(_trade(i, now, combined)) for i in ids))
                await writer.drain()
        else:  # paced: `count` messages at `rate` per second, in 10 ms batches
            sent = 0
            t0 = time.monotonic()
            while sent < count:
                due = min(count, int((time.monotonic() - t0) * rate) + 1)
                now = time.time_ns() // 1_000_000
                if due > sent:
                    ids = range(sent + 1, due + 1)
                    writer.write(b"".join(_frame(_trade(i, now, combined)) for i in ids))
                    sent = due
                await asyncio.sleep(0.01)
        await control
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        control.cancel()
        writer.close()


async def _publisher(mode: str, count: int, rate: float) -> None:
    server = await asyncio.start_server(
        lambda r, w: _serve_client(r, w, mode, count, rate), "127.0.0.1", 0, limit=1 << 20
    )
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    # Serve until our parent closes our stdin.
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


class Publisher:
    """The publisher process: ``with Publisher("flood", n) as port: ...``."""

    def __init__(self, mode: str, count: int, rate: float = 0.0) -> None:
        self.args = [mode, str(count), str(rate)]

    def __enter__(self) -> int:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--publisher", *self.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        return int(self.proc.stdout.readline())

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- measurements --------------------------------------------------------------------------------
def _rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def ours_throughput(port: int, count: int) -> float:
    import types

    from binance.websockets import BinanceSocketManager

    done = threading.Event()
    state = {"n": 0, "t0": 0.0, "t1": 0.0}

    def callback(msg: dict[str, Any]) -> None:
        n = state["n"] = state["n"] + 1
        if n == 1:
            state["t0"] = time.perf_counter()
        elif n == count:
            state["t1"] = time.perf_counter()
            done.set()

    bm = BinanceSocketManager(types.SimpleNamespace(stream_url=f"ws://127.0.0.1:{port}"))
    bm.start_trade_socket("BNBBTC", callback)
    bm.start()
    try:
        if not done.wait(120):
            raise RuntimeError(f"only {state['n']} of {count} messages arrived")
    finally:
        bm.close()
    return (count - 1) / (state["t1"] - state["t0"])


def ours_slow_consumer(port: int, count: int, rate: float) -> dict[str, Any]:
    import types

    from binance.websockets import BinanceSocketManager

    state: dict[str, Any] = {"n": 0, "gaps": 0, "dropped": 0, "last_e": 0, "peak": 0}
    delay = 10.0 / rate
    rss0 = _rss_kb()

    def callback(msg: dict[str, Any]) -> None:
        if msg.get("e") == "gap":
            state["gaps"] += 1
            state["dropped"] += msg["dropped"]
            return
        state["n"] += 1
        state["last_e"] = msg.get("E", 0)
        time.sleep(delay)

    bm = BinanceSocketManager(types.SimpleNamespace(stream_url=f"ws://127.0.0.1:{port}"))
    bm.start_trade_socket("BNBBTC", callback)
    bm.start()
    try:
        end = time.monotonic() + count / rate + 1.0
        while time.monotonic() < end:
            state["peak"] = max(state["peak"], _rss_kb())
            time.sleep(0.05)
        lag_ms = time.time_ns() // 1_000_000 - state["last_e"]
    finally:
        bm.close()
    return {
        "delivered": state["n"],
        "gap_events": state["gaps"],
        "dropped": state["dropped"],
        "rss_growth_kb": state["peak"] - rss0,
        "lag_ms": lag_ms,
    }


_PEER_COMMON = r"""
import json, sys, threading, time, asyncio, logging
logging.disable(logging.CRITICAL)           # its error loop after an overflow floods stderr
import binance.async_client as ac
from binance import ThreadedWebsocketManager
import binance.ws.streams as st

async def _ping(self, *a, **k):
    return {}
async def _time(self, *a, **k):
    return {"serverTime": int(time.time() * 1000)}
ac.AsyncClient.ping = _ping                 # no network: skip the REST calls of create()
ac.AsyncClient.get_server_time = _time
st.BinanceSocketManager.STREAM_URL = "ws://127.0.0.1:%d/" % int(sys.argv[1])

def rss_kb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
"""

PEER_THROUGHPUT = (
    _PEER_COMMON
    + r"""
count = int(sys.argv[2])
done = threading.Event()
state = {"n": 0, "t0": 0.0, "t1": 0.0}
def callback(msg):
    if msg.get("e") == "error":
        print("error", msg, file=sys.stderr)
        done.set()
        return
    n = state["n"] = state["n"] + 1
    if n == 1:
        state["t0"] = time.perf_counter()
    elif n == count:
        state["t1"] = time.perf_counter()
        done.set()
twm = ThreadedWebsocketManager(max_queue_size=10_000_000)
twm.start()
twm.start_trade_socket(callback=callback, symbol="BNBBTC")
done.wait(120)
twm.stop()
rate = (count - 1) / (state["t1"] - state["t0"]) if state["t1"] else 0.0
print(json.dumps({"rate": rate, "received": state["n"]}))
"""
)

PEER_SLOW = (
    _PEER_COMMON
    + r"""
count, rate = int(sys.argv[2]), float(sys.argv[3])
delay = 10.0 / rate
state = {"n": 0, "errors": 0, "last_e": 0}
def callback(msg):
    if msg.get("e") == "error":
        state["errors"] += 1
        return
    state["n"] += 1
    state["last_e"] = msg.get("E", 0)
    time.sleep(delay)
rss0 = rss_kb()
peak = rss0
twm = ThreadedWebsocketManager()          # its default max_queue_size=100
twm.start()
twm.start_trade_socket(callback=callback, symbol="BNBBTC")
end = time.monotonic() + count / rate + 1.0
while time.monotonic() < end:
    peak = max(peak, rss_kb())
    time.sleep(0.05)
lag = time.time_ns() // 1_000_000 - state["last_e"]
print(json.dumps({"delivered": state["n"], "error_events": state["errors"],
                  "rss_growth_kb": peak - rss0, "lag_ms": lag}), flush=True)
import os
os._exit(0)   # after a queue overflow its listener loops on errors; stop() may never return
"""
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--slow-rate", type=float, default=5000.0, help="msgs/s, slow test")
    parser.add_argument("--slow-seconds", type=float, default=6.0)
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()

    sys.path.insert(0, str(HERE))
    from _peers import peer_versions, print_table, run_peer

    count = args.messages
    print(f"throughput: {count:,} trade messages flooded over loopback into a callback")
    with Publisher("flood", count) as port:
        ours = ours_throughput(port, count)
    rates = {"us (BinanceSocketManager)": ours}
    if not args.skip_peers:
        versions = peer_versions()
        with Publisher("flood", count) as port:
            peer = run_peer(PEER_THROUGHPUT, args=[str(port), str(count)])
        if peer["received"] < count:
            print(f"  python-binance received only {peer['received']:,} messages")
        rates[f"python-binance {versions['python-binance']} TWM"] = peer["rate"] or 1e-9
    print_table("messages/s into a callback", rates, base="us (BinanceSocketManager)", unit="msg/s")

    slow_count = int(args.slow_rate * args.slow_seconds)
    print(
        f"\nslow consumer: {args.slow_rate:,.0f} msg/s for {args.slow_seconds:.0f} s, "
        f"callback takes {10 / args.slow_rate * 1000:.1f} ms (10x too slow)"
    )
    with Publisher("paced", slow_count, args.slow_rate) as port:
        mine = ours_slow_consumer(port, slow_count, args.slow_rate)
    print(f"  us:             {json.dumps(mine)}")
    if not args.skip_peers:
        with Publisher("paced", slow_count, args.slow_rate) as port:
            theirs = run_peer(PEER_SLOW, args=[str(port), str(slow_count), str(args.slow_rate)])
        print(f"  python-binance: {json.dumps(theirs)}")
    print(
        "  (rss_growth_kb: peak RSS over the start; lag_ms: age of the last delivered message"
        " when the run ended)"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--publisher":
        mode, count, rate = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        asyncio.run(_publisher(mode, count, rate))
    else:
        os.environ.setdefault("PYTHONHASHSEED", "0")
        main()
