"""API keys, permissions, signatures and the timestamp rule of the local exchange.

Keys are derived from the simulator's seed, so the same seed gives the same keys on every run:
HMAC secrets, Ed25519 private keys and RSA-2048 keys (primes drawn from a seeded SHA-256 counter
generator and proven with Miller-Rabin). Requests are checked the way Binance does:

- REST (NOTES.md §2.1): the signed payload is the query string followed by the body, exactly as
  received (percent-encoded), with the ``signature`` pair removed. HMAC-SHA256 hex is compared
  case-insensitively; RSA (PKCS#1 v1.5, SHA-256) and Ed25519 signatures are base64.
- WebSocket API (NOTES.md §2.3): parameters sorted by name, ``name=value`` joined with ``&``,
  no percent-encoding, UTF-8.
- Timing (NOTES.md §1.4): ``timestamp < serverTime + 1000`` and
  ``serverTime - timestamp <= recvWindow`` (default 5000, max 60000, up to 3 decimals); µs
  timestamps are accepted.

Secrets never appear in reprs or error texts. No I/O here; aiohttp and the client are not
imported.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from urllib.parse import unquote_plus

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from binance import errorcodes
from binance.sim.engine import EngineError

__all__ = [
    "KEY_TYPES",
    "PERMISSIONS",
    "AccountRef",
    "ApiKeyRecord",
    "KeyStore",
    "ListenKeys",
    "check_timestamp",
    "rest_signature_payload",
    "ws_signature_payload",
    "authenticate_rest",
    "authenticate_ws",
    "required_permission",
]

KEY_TYPE_HMAC = "HMAC"
KEY_TYPE_RSA = "RSA"
KEY_TYPE_ED25519 = "Ed25519"
KEY_TYPES = (KEY_TYPE_HMAC, KEY_TYPE_RSA, KEY_TYPE_ED25519)

PERMISSION_READ = "read"
PERMISSION_TRADE = "trade"
PERMISSION_WITHDRAW = "withdraw"
PERMISSIONS = (PERMISSION_READ, PERMISSION_TRADE, PERMISSION_WITHDRAW)

# Binance API keys are 64 alphanumeric characters; anything else is -2014 "format invalid".
_API_KEY_RE = re.compile(r"^[A-Za-z0-9]{64}$")
_ALNUM = string.ascii_letters + string.digits
# recvWindow: milliseconds with up to three decimals (NOTES.md §1.4).
_RECV_WINDOW_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,3})?$")
_RECV_WINDOW_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,3})?$"
_INTEGER_RE = re.compile(r"^[0-9]{1,20}$")
_INTEGER_RANGE = "^[0-9]{1,20}$"
# Timestamps at or above this are microseconds (ms timestamps stay below it until year 5138).
_MICROSECOND_THRESHOLD = 100_000_000_000_000


# -- deterministic key material --------------------------------------------------------------------


class _Drbg:
    """A deterministic byte stream: SHA-256 over (label, counter). Same label, same bytes."""

    def __init__(self, label: str) -> None:
        self._key = hashlib.sha256(label.encode()).digest()
        self._counter = 0
        self._buffer = b""

    def read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            block = hashlib.sha256(self._key + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            self._buffer += block
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def below(self, bound: int) -> int:
        """A uniform integer in [0, bound) by rejection sampling."""
        size = (bound.bit_length() + 7) // 8
        mask = (1 << bound.bit_length()) - 1
        while True:
            value = int.from_bytes(self.read(size), "big") & mask
            if value < bound:
                return value

    def text(self, length: int) -> str:
        return "".join(_ALNUM[self.below(len(_ALNUM))] for _ in range(length))


def _small_primes(limit: int) -> tuple[int, ...]:
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    for i in range(2, int(limit**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytearray(len(sieve[i * i :: i]))
    return tuple(i for i, flag in enumerate(sieve) if flag)


_SMALL_PRIMES = _small_primes(2000)


def _is_probable_prime(n: int, drbg: _Drbg, rounds: int = 5) -> bool:
    """Miller-Rabin with ``rounds`` random bases from ``drbg``.

    Five rounds suffice for 1024-bit primes of an RSA-2048 key (FIPS 186-4, table C.2).
    """
    if n < 2:
        return False
    for p in _SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for _ in range(rounds):
        a = 2 + drbg.below(n - 3)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


_SIEVE_PRIMES = _small_primes(1 << 16)[1:]  # odd primes below 65536
_SIEVE_WINDOW = 4096


def _prime(drbg: _Drbg, bits: int, e: int) -> int:
    """A random ``bits``-bit prime p with gcd(p - 1, e) = 1.

    Draws a random odd start, sieves the next ``_SIEVE_WINDOW`` odd numbers by every prime
    below 2**16, then runs Miller-Rabin on the survivors in order.
    """
    while True:
        start = int.from_bytes(drbg.read(bits // 8), "big")
        # Top two bits set so p*q has exactly 2*bits bits; odd.
        start |= (3 << (bits - 2)) | 1
        sieve = bytearray(b"\x01") * _SIEVE_WINDOW
        for p in _SIEVE_PRIMES:
            # start + 2k = 0 (mod p)  <=>  k = -start * 2^-1 (mod p)
            k = (-(start % p) * ((p + 1) // 2)) % p
            sieve[k::p] = bytes(len(range(k, _SIEVE_WINDOW, p)))
        for k in range(_SIEVE_WINDOW):
            if not sieve[k]:
                continue
            candidate = start + 2 * k
            if candidate.bit_length() != bits:
                break
            if math.gcd(candidate - 1, e) == 1 and _is_probable_prime(candidate, drbg):
                return candidate


@lru_cache(maxsize=64)
def _rsa_private_pem(label: str) -> str:
    """A valid RSA-2048 private key (PKCS#8 PEM) derived only from ``label``."""
    e = 65537
    drbg = _Drbg("rsa:" + label)
    while True:
        p = _prime(drbg, 1024, e)
        q = _prime(drbg, 1024, e)
        if p != q and abs(p - q) >> 924:  # FIPS 186-4: |p - q| > 2**(nlen/2 - 100)
            break
    if p < q:
        p, q = q, p
    lam = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
    d = pow(e, -1, lam)
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=d % (p - 1),
        dmq1=d % (q - 1),
        iqmp=pow(q, -1, p),
        public_numbers=rsa.RSAPublicNumbers(e, p * q),
    )
    key = numbers.private_key()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _ed25519_private_pem(label: str) -> str:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(_Drbg("ed25519:" + label).read(32))
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )


# -- keys -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRef:
    """The authenticated caller handed to endpoint handlers.

    Attributes:
        account_id: the engine account the key belongs to.
        api_key: the key used (public identifier; not a secret).
        key_type: ``"HMAC"``, ``"RSA"`` or ``"Ed25519"``.
        permissions: the key's permissions (``"read"``, ``"trade"``, ``"withdraw"``).
        timestamp_ms: the request's ``timestamp`` in ms (signed requests), for the second
            recvWindow check just before the matching engine (NOTES.md §1.4).
        recv_window_ms: the request's ``recvWindow`` in ms (signed requests).
    """

    account_id: str
    api_key: str
    key_type: str
    permissions: frozenset[str]
    timestamp_ms: Decimal | None = None
    recv_window_ms: Decimal | None = None

    def within_recv_window(self, now_ms: int) -> bool:
        """True unless the request is now older than its recvWindow (unsigned: always True)."""
        if self.timestamp_ms is None or self.recv_window_ms is None:
            return True
        return Decimal(now_ms) - self.timestamp_ms <= self.recv_window_ms


@dataclass(frozen=True)
class ApiKeyRecord:
    """One API key: its type, permissions, account and key material.

    ``repr()`` shows only the public parts; ``credentials()`` returns everything a client
    needs to sign (the secret or the private key PEM).
    """

    api_key: str
    key_type: str
    permissions: frozenset[str]
    account_id: str
    secret: str | None = field(default=None, repr=False)
    private_key_pem: str | None = field(default=None, repr=False)
    public_key_pem: str | None = field(default=None, repr=False)
    _verifier: rsa.RSAPublicKey | ed25519.Ed25519PublicKey | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.key_type == KEY_TYPE_HMAC:
            assert self.secret is not None
            return
        assert self.public_key_pem is not None
        key = serialization.load_pem_public_key(self.public_key_pem.encode())
        wanted = rsa.RSAPublicKey if self.key_type == KEY_TYPE_RSA else ed25519.Ed25519PublicKey
        if not isinstance(key, wanted):
            raise ValueError(f"a {self.key_type} key needs a {wanted.__name__} PEM")
        object.__setattr__(self, "_verifier", key)  # frozen: set once, here

    def __repr__(self) -> str:
        return (
            f"ApiKeyRecord(api_key={self.api_key[:8]}..., key_type={self.key_type!r}, "
            f"permissions={sorted(self.permissions)!r}, account_id={self.account_id!r})"
        )

    def ordered_permissions(self) -> tuple[str, ...]:
        """The key's permissions in ``PERMISSIONS`` order (read, trade, withdraw)."""
        return tuple(p for p in PERMISSIONS if p in self.permissions)

    def credentials(self) -> dict[str, object]:
        """The key as a JSON-ready dict (what ``binance sim`` prints and ``LocalExchange.keys``
        lists): ``api_key``, ``key_type``, ``permissions``, ``account_id`` and either
        ``api_secret`` (HMAC) or ``private_key``/``public_key`` PEMs (RSA, Ed25519)."""
        out: dict[str, object] = {
            "api_key": self.api_key,
            "key_type": self.key_type,
            "permissions": list(self.ordered_permissions()),
            "account_id": self.account_id,
        }
        if self.key_type == KEY_TYPE_HMAC:
            out["api_secret"] = self.secret
        else:
            out["private_key"] = self.private_key_pem
            out["public_key"] = self.public_key_pem
        return out

    def verify(self, payload: bytes, signature: str) -> bool:
        """True when ``signature`` (already percent-decoded) signs ``payload`` with this key."""
        if self.key_type == KEY_TYPE_HMAC:
            assert self.secret is not None
            expected = hmac.new(self.secret.encode(), payload, hashlib.sha256).hexdigest()
            # NOTES.md §2.1: the hex signature is case-insensitive.
            return hmac.compare_digest(expected, signature.lower())
        try:
            raw = base64.b64decode(signature, validate=True)
        except (ValueError, TypeError):
            return False
        verifier = self._verifier
        assert verifier is not None  # __post_init__ set it for every non-HMAC key
        try:
            if isinstance(verifier, rsa.RSAPublicKey):
                verifier.verify(raw, payload, padding.PKCS1v15(), hashes.SHA256())
            else:
                verifier.verify(raw, payload)
        except InvalidSignature:
            return False
        return True

    def ref(
        self, timestamp_ms: Decimal | None = None, recv_window_ms: Decimal | None = None
    ) -> AccountRef:
        """The ``AccountRef`` handed to handlers for a request made with this key."""
        return AccountRef(
            self.account_id,
            self.api_key,
            self.key_type,
            self.permissions,
            timestamp_ms,
            recv_window_ms,
        )


class KeyStore:
    """All API keys of the local exchange, derived deterministically from the seed.

    The n-th key created gets the same material for the same seed, so a run that creates its
    accounts in the same order gets the same keys.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._by_key: dict[str, ApiKeyRecord] = {}
        self._created = 0

    def create(
        self,
        account_id: str,
        key_type: str = KEY_TYPE_HMAC,
        permissions: Iterable[str] = PERMISSIONS,
    ) -> ApiKeyRecord:
        """Create a key for ``account_id``.

        Args:
            account_id: the engine account the key trades for.
            key_type: ``"HMAC"``, ``"RSA"`` or ``"Ed25519"`` (case-insensitive).
            permissions: any of ``"read"``, ``"trade"``, ``"withdraw"``.

        Raises:
            ValueError: unknown key type or permission.
        """
        kind = {k.lower(): k for k in KEY_TYPES}.get(str(key_type).lower())
        if kind is None:
            raise ValueError(f"key_type must be one of {KEY_TYPES}, got {key_type!r}")
        perms = frozenset(permissions)
        unknown = perms - set(PERMISSIONS)
        if unknown:
            raise ValueError(f"unknown permissions {sorted(unknown)}; use {PERMISSIONS}")
        label = f"{self.seed}/{self._created}"
        self._created += 1
        drbg = _Drbg("key:" + label)
        api_key = drbg.text(64)
        while api_key in self._by_key:  # pragma: no cover - 62**64 space
            api_key = drbg.text(64)
        if kind == KEY_TYPE_HMAC:
            record = ApiKeyRecord(api_key, kind, perms, account_id, secret=drbg.text(64))
        else:
            private = _rsa_private_pem(label) if kind == KEY_TYPE_RSA else None
            if private is None:
                private = _ed25519_private_pem(label)
            record = ApiKeyRecord(
                api_key,
                kind,
                perms,
                account_id,
                private_key_pem=private,
                public_key_pem=_public_pem(private),
            )
        self._by_key[api_key] = record
        return record

    def get(self, api_key: str) -> ApiKeyRecord | None:
        """The record for ``api_key``, or None."""
        return self._by_key.get(api_key)

    def revoke(self, api_key: str) -> bool:
        """Delete a key; True if it existed. Later requests with it get -2015."""
        return self._by_key.pop(api_key, None) is not None

    def records(self) -> list[ApiKeyRecord]:
        """Every key, in creation order."""
        return list(self._by_key.values())

    def lookup(self, api_key: str | None, permission: str | None) -> ApiKeyRecord:
        """The key's record, checking its format and that it holds ``permission``.

        Raises:
            EngineError: -2014 (missing or malformed key), -2015 (unknown key or missing
                permission).
        """
        if not api_key or not _API_KEY_RE.match(api_key):
            raise EngineError(errorcodes.BAD_API_KEY_FMT)
        record = self._by_key.get(api_key)
        if record is None or (permission is not None and permission not in record.permissions):
            raise EngineError(errorcodes.REJECTED_MBX_KEY)
        return record


class ListenKeys:
    """Legacy listenKeys (``/api/v3/userDataStream``, NOTES.md §11): one per account.

    A key lives ``lifetime_ms`` after its creation or last keepalive; creating again returns
    the account's active key and extends it.
    """

    def __init__(self, lifetime_ms: int = 60 * 60 * 1000, seed: int = 0) -> None:
        self.lifetime_ms = lifetime_ms
        self._drbg = _Drbg(f"listenKey:{seed}")
        self._expiry: dict[str, int] = {}
        self._account: dict[str, str] = {}
        self._by_account: dict[str, str] = {}

    def create(self, account_id: str, now_ms: int) -> str:
        """The account's active listenKey (a new one if none), valid for the lifetime."""
        key = self._by_account.get(account_id)
        if key is None or self._expiry.get(key, 0) <= now_ms:
            if key is not None:
                self._forget(key)
            key = self._drbg.text(60)
            self._account[key] = account_id
            self._by_account[account_id] = key
        self._expiry[key] = now_ms + self.lifetime_ms
        return key

    def keepalive(self, key: str, now_ms: int, account_id: str | None = None) -> None:
        """Extend ``key``. Raises EngineError(-1125) if it is unknown or expired."""
        self._check(key, now_ms, account_id)
        self._expiry[key] = now_ms + self.lifetime_ms

    def close(self, key: str, now_ms: int, account_id: str | None = None) -> None:
        """Close ``key``. Raises EngineError(-1125) if it is unknown or expired."""
        self._check(key, now_ms, account_id)
        self._forget(key)

    def account_for(self, key: str, now_ms: int) -> str | None:
        """The account of an active key, else None."""
        if self._expiry.get(key, 0) <= now_ms:
            return None
        return self._account.get(key)

    def expire(self, now_ms: int) -> list[tuple[str, str]]:
        """Forget keys whose lifetime ended; returns their ``(listen_key, account_id)``."""
        gone = [(k, self._account[k]) for k, t in self._expiry.items() if t <= now_ms]
        for key, _ in gone:
            self._forget(key)
        return gone

    def _check(self, key: str, now_ms: int, account_id: str | None) -> None:
        owner = self.account_for(key, now_ms)
        if owner is None or (account_id is not None and owner != account_id):
            raise EngineError(errorcodes.INVALID_LISTEN_KEY)

    def _forget(self, key: str) -> None:
        self._expiry.pop(key, None)
        account = self._account.pop(key, None)
        if account is not None and self._by_account.get(account) == key:
            del self._by_account[account]


# -- request checks -------------------------------------------------------------------------------


def check_timestamp(
    timestamp: str | None,
    recv_window: str | None,
    now_ms: int,
    *,
    default_recv_window_ms: int = 5000,
    max_recv_window_ms: int = 60_000,
) -> tuple[Decimal, Decimal]:
    """Apply Binance's timing rule (NOTES.md §1.4) and return ``(timestamp_ms, recv_window_ms)``.

    Raises:
        EngineError: -1102 (timestamp missing), -1100 (not a number), -1102 (recvWindow above
            the maximum), -1021 (ahead of the server by 1000 ms or more, or older than
            recvWindow).
    """
    if timestamp is None or timestamp == "":
        raise EngineError(
            errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
            errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED.msg("timestamp"),
        )
    if not _INTEGER_RE.match(timestamp):
        raise EngineError(
            errorcodes.ILLEGAL_CHARS, errorcodes.ILLEGAL_CHARS.msg("timestamp", _INTEGER_RANGE)
        )
    ts = Decimal(int(timestamp))
    if ts >= _MICROSECOND_THRESHOLD:
        ts = ts / 1000  # µs timestamps are allowed (NOTES.md §1.2)
    if recv_window is None:
        window = Decimal(default_recv_window_ms)
    else:
        if recv_window == "":
            raise EngineError(errorcodes.PARAM_EMPTY, errorcodes.PARAM_EMPTY.msg("recvWindow"))
        if not _RECV_WINDOW_RE.match(recv_window):
            raise EngineError(
                errorcodes.ILLEGAL_CHARS,
                errorcodes.ILLEGAL_CHARS.msg("recvWindow", _RECV_WINDOW_RANGE),
            )
        try:
            window = Decimal(recv_window)
        except InvalidOperation:  # pragma: no cover - the regex admits only decimals
            raise EngineError(errorcodes.ILLEGAL_CHARS) from None
        if window > max_recv_window_ms:
            # NOTES.md §14: today's wording for the retired -1131 BAD_RECV_WINDOW (our guess).
            raise EngineError(
                errorcodes.PARAM_TOO_LARGE,
                errorcodes.PARAM_TOO_LARGE.msg("recvWindow", max_recv_window_ms),
            )
    now = Decimal(now_ms)
    if ts >= now + 1000:
        raise EngineError(errorcodes.TIMESTAMP_AHEAD)
    if now - ts > window:
        raise EngineError(errorcodes.INVALID_TIMESTAMP)
    return ts, window


def _pair_name(pair: str) -> str:
    return unquote_plus(pair.split("=", 1)[0])


def rest_signature_payload(raw_query: str, raw_body: str) -> bytes:
    """The bytes a REST signature covers: query string + body as received, minus ``signature``.

    NOTES.md §2.1: totalParams is the query string concatenated with the body, no separator;
    the server verifies over the raw (percent-encoded) bytes it received.
    """
    parts = []
    for raw in (raw_query, raw_body):
        if raw and "signature" in raw:
            raw = "&".join(p for p in raw.split("&") if _pair_name(p) != "signature")
        parts.append(raw)
    return ("".join(parts)).encode("utf-8", "surrogateescape")


def _ws_value(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple, dict)):
        import json  # only for nested values, which signed methods never carry

        return json.dumps(value, separators=(",", ":"))
    return str(value)


def ws_signature_payload(params: Mapping[str, object]) -> bytes:
    """The bytes a WebSocket API signature covers (NOTES.md §2.3).

    All params except ``signature``, sorted by name, ``name=value`` joined by ``&``, no
    percent-encoding, UTF-8. Booleans are ``true``/``false``.
    """
    items = sorted((k, v) for k, v in params.items() if k != "signature")
    return "&".join(f"{k}={_ws_value(v)}" for k, v in items).encode("utf-8")


def required_permission(security_name: str, path: str) -> str:
    """The key permission an endpoint needs: withdraw for withdrawals, trade for TRADE,
    else read."""
    if path.endswith("withdraw/apply"):
        return PERMISSION_WITHDRAW
    if security_name == "TRADE":
        return PERMISSION_TRADE
    return PERMISSION_READ


def authenticate_rest(
    keys: KeyStore,
    *,
    api_key: str | None,
    signed: bool,
    permission: str | None,
    params: Mapping[str, str],
    raw_query: str,
    raw_body: str,
    now_ms: int,
    default_recv_window_ms: int = 5000,
    max_recv_window_ms: int = 60_000,
) -> AccountRef:
    """Authenticate one REST request; returns the caller.

    Order of checks: key format (-2014), key and permission (-2015), ``signature`` present
    (-1102), signature valid (-1022), then the timing rule (-1102/-1100/-1021).
    """
    record = keys.lookup(api_key, permission)
    if not signed:
        return record.ref()
    signature = params.get("signature")
    if signature is None or signature == "":
        raise EngineError(
            errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
            errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED.msg("signature"),
        )
    if "timestamp" not in params or params["timestamp"] == "":
        raise EngineError(
            errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
            errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED.msg("timestamp"),
        )
    if not record.verify(rest_signature_payload(raw_query, raw_body), signature):
        raise EngineError(errorcodes.INVALID_SIGNATURE)
    ts, window = check_timestamp(
        params.get("timestamp"),
        params.get("recvWindow"),
        now_ms,
        default_recv_window_ms=default_recv_window_ms,
        max_recv_window_ms=max_recv_window_ms,
    )
    return record.ref(ts, window)


def authenticate_ws(
    keys: KeyStore,
    params: Mapping[str, object],
    *,
    permission: str | None,
    now_ms: int,
    default_recv_window_ms: int = 5000,
    max_recv_window_ms: int = 60_000,
) -> AccountRef:
    """Authenticate a signed WebSocket API request from its ``params`` (NOTES.md §2.3).

    ``params`` must carry ``apiKey``, ``timestamp`` and ``signature`` (``recvWindow``
    optional). Raises the same errors as ``authenticate_rest``.
    """
    api_key = params.get("apiKey")
    record = keys.lookup(api_key if isinstance(api_key, str) else None, permission)
    signature = params.get("signature")
    if not isinstance(signature, str) or signature == "":
        raise EngineError(
            errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
            errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED.msg("signature"),
        )
    timestamp = params.get("timestamp")
    if timestamp is None or timestamp == "":
        raise EngineError(
            errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
            errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED.msg("timestamp"),
        )
    if not record.verify(ws_signature_payload(params), signature):
        raise EngineError(errorcodes.INVALID_SIGNATURE)
    recv_window = params.get("recvWindow")
    ts, window = check_timestamp(
        _ws_value(timestamp),
        None if recv_window is None else _ws_value(recv_window),
        now_ms,
        default_recv_window_ms=default_recv_window_ms,
        max_recv_window_ms=max_recv_window_ms,
    )
    return record.ref(ts, window)
