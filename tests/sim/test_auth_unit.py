"""Unit tests of the simulator's key store, signature payloads and timestamp rule (no I/O)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from binance import errorcodes
from binance.sim._auth import (
    KeyStore,
    ListenKeys,
    authenticate_rest,
    authenticate_ws,
    check_timestamp,
    rest_signature_payload,
    ws_signature_payload,
)
from binance.sim.engine import EngineError

# NOTES.md §2.2: Binance's documented HMAC vector.
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_PAYLOAD = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
NOW = 1_499_827_319_559


def _doc_store() -> tuple[KeyStore, str]:
    """A key store holding a key whose secret is the documented one."""
    from binance.sim._auth import ApiKeyRecord

    store = KeyStore(0)
    api_key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
    record = ApiKeyRecord(api_key, "HMAC", frozenset({"read", "trade"}), "acct", secret=DOC_SECRET)
    store._by_key[api_key] = record
    return store, api_key


def _code(exc: pytest.ExceptionInfo[EngineError]) -> int:
    return exc.value.code


def test_documented_hmac_vector_verifies_in_query_and_in_body():
    """The §2.2 vector is accepted whether the parameters travel in the query or the body."""
    store, api_key = _doc_store()
    for query, body in (
        (DOC_PAYLOAD + "&signature=" + DOC_SIGNATURE, ""),
        ("", DOC_PAYLOAD + "&signature=" + DOC_SIGNATURE),
    ):
        params = dict(p.split("=") for p in (query or body).split("&"))
        ref = authenticate_rest(
            store,
            api_key=api_key,
            signed=True,
            permission="trade",
            params=params,
            raw_query=query,
            raw_body=body,
            now_ms=NOW,
        )
        assert ref.account_id == "acct"


def test_hmac_signature_is_case_insensitive():
    """An upper-case hex HMAC signature is accepted (NOTES.md §2.1)."""
    store, api_key = _doc_store()
    query = DOC_PAYLOAD + "&signature=" + DOC_SIGNATURE.upper()
    params = dict(p.split("=") for p in query.split("&"))
    authenticate_rest(
        store,
        api_key=api_key,
        signed=True,
        permission="trade",
        params=params,
        raw_query=query,
        raw_body="",
        now_ms=NOW,
    )


def test_payload_is_query_then_body_without_signature():
    """The signed bytes are query + body as sent, with the signature pair cut out."""
    assert rest_signature_payload("a=1&signature=x&b=2", "c=3") == b"a=1&b=2c=3"
    assert rest_signature_payload("signature=x&a=1", "") == b"a=1"
    assert rest_signature_payload("a=%E4%BD%A0", "signature=y") == b"a=%E4%BD%A0"


def test_wrong_secret_is_1022_and_mixed_split_needs_exact_bytes():
    """A signature over other bytes is -1022."""
    store, api_key = _doc_store()
    query = "symbol=LTCBTC&side=BUY"
    body = DOC_PAYLOAD[len(query) + 1 :] + "&signature=" + DOC_SIGNATURE
    params = dict(p.split("=") for p in (query + "&" + body).split("&"))
    # Query + body without the '&' Binance concatenates: signature over the joined string fails.
    with pytest.raises(EngineError) as exc:
        authenticate_rest(
            store,
            api_key=api_key,
            signed=True,
            permission="trade",
            params=params,
            raw_query=query,
            raw_body=body,
            now_ms=NOW,
        )
    assert _code(exc) == -1022


@pytest.mark.parametrize(
    ("api_key", "code"),
    [(None, -2014), ("short", -2014), ("x" * 63 + "!", -2014), ("A" * 64, -2015)],
)
def test_bad_or_unknown_keys(api_key, code):
    """Missing or malformed keys are -2014; well-formed unknown keys are -2015."""
    store, _ = _doc_store()
    with pytest.raises(EngineError) as exc:
        store.lookup(api_key, "read")
    assert _code(exc) == code


def test_missing_permission_is_2015():
    """A key without the needed permission is -2015."""
    store, api_key = _doc_store()
    with pytest.raises(EngineError) as exc:
        store.lookup(api_key, "withdraw")
    assert _code(exc) == -2015


def test_missing_timestamp_and_signature_are_1102():
    """Signed requests without timestamp or signature are -1102 naming the parameter."""
    store, api_key = _doc_store()
    with pytest.raises(EngineError) as exc:
        authenticate_rest(
            store,
            api_key=api_key,
            signed=True,
            permission="read",
            params={"timestamp": "1"},
            raw_query="timestamp=1",
            raw_body="",
            now_ms=NOW,
        )
    assert exc.value.message == errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED.msg("signature")
    with pytest.raises(EngineError) as exc:
        authenticate_rest(
            store,
            api_key=api_key,
            signed=True,
            permission="read",
            params={"signature": "ab"},
            raw_query="signature=ab",
            raw_body="",
            now_ms=NOW,
        )
    assert exc.value.message == errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED.msg("timestamp")


@pytest.mark.parametrize(
    ("timestamp", "recv_window", "message"),
    [
        (NOW + 1000, None, errorcodes.TIMESTAMP_AHEAD.message),
        (NOW - 5001, None, errorcodes.INVALID_TIMESTAMP.message),
        (NOW - 10_000, "9999.999", errorcodes.INVALID_TIMESTAMP.message),
    ],
)
def test_timestamp_outside_the_window_is_1021(timestamp, recv_window, message):
    """NOTES.md §1.4: ahead by 1000 ms, or older than recvWindow, is -1021 with its text."""
    with pytest.raises(EngineError) as exc:
        check_timestamp(str(timestamp), recv_window, NOW)
    assert (exc.value.code, exc.value.message) == (-1021, message)


def test_timestamp_edges_and_microseconds_are_accepted():
    """999 ms ahead, exactly recvWindow old, decimal recvWindow and µs timestamps pass."""
    assert check_timestamp(str(NOW + 999), None, NOW)[0] == NOW + 999
    assert check_timestamp(str(NOW - 5000), None, NOW)[1] == 5000
    assert check_timestamp(str(NOW - 6000), "6000.346", NOW)[1] == Decimal("6000.346")
    assert check_timestamp(str(NOW * 1000 + 5), None, NOW)[0] == Decimal(NOW) + Decimal("0.005")


def test_recv_window_above_60000_and_bad_formats():
    """recvWindow > 60000 is -1102; malformed numbers are -1100."""
    with pytest.raises(EngineError) as exc:
        check_timestamp(str(NOW), "60001", NOW)
    assert exc.value.code == -1102
    assert (
        exc.value.message == "'recvWindow' contains unexpected value. Cannot be greater than 60000."
    )
    for ts, window in (("12a", None), (str(NOW), "5000.1234"), (str(NOW), "-1")):
        with pytest.raises(EngineError) as exc:
            check_timestamp(ts, window, NOW)
        assert exc.value.code == -1100


def test_keys_are_deterministic_per_seed_and_distinct_across_seeds():
    """Same seed and order: same keys; another seed: other keys."""
    a, b, c = KeyStore(3), KeyStore(3), KeyStore(4)
    ka = [a.create("x", t) for t in ("HMAC", "Ed25519")]
    kb = [b.create("x", t) for t in ("HMAC", "Ed25519")]
    kc = [c.create("x", t) for t in ("HMAC", "Ed25519")]
    assert [k.credentials() for k in ka] == [k.credentials() for k in kb]
    assert ka[0].api_key != kc[0].api_key and ka[1].private_key_pem != kc[1].private_key_pem
    assert len(ka[0].api_key) == 64 and ka[0].api_key.isalnum()


def test_rsa_key_is_valid_2048_bit_and_deterministic():
    """The seeded RSA key loads in `cryptography`, is 2048-bit and verifies PKCS#1 v1.5."""
    record = KeyStore(11).create("x", "RSA")
    again = KeyStore(11).create("x", "RSA")
    assert record.private_key_pem == again.private_key_pem
    key = serialization.load_pem_private_key(record.private_key_pem.encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert record.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
    sig = base64.b64encode(key.sign(b"payload", padding.PKCS1v15(), hashes.SHA256())).decode()
    assert record.verify(b"payload", sig)
    assert not record.verify(b"payloaD", sig)
    assert not record.verify(b"payload", "not base64!")


def test_repr_hides_secrets():
    """Neither the secret nor the private key appear in repr()."""
    store = KeyStore(0)
    hmac_key = store.create("x", "HMAC")
    ed_key = store.create("x", "Ed25519")
    assert hmac_key.secret not in repr(hmac_key)
    assert "PRIVATE" not in repr(ed_key)


def test_ws_payload_sorts_and_does_not_encode():
    """NOTES.md §2.3: sorted names, raw values, booleans as true/false, no signature."""
    params = {
        "symbol": "BTCUSDT",
        "apiKey": "k",
        "timestamp": 5,
        "flag": True,
        "note": "a b&c",
        "signature": "s",
    }
    assert (
        ws_signature_payload(params) == b"apiKey=k&flag=true&note=a b&c&symbol=BTCUSDT&timestamp=5"
    )


def test_ws_authentication_with_hmac():
    """A WebSocket API request signed over the sorted payload authenticates."""
    store = KeyStore(0)
    record = store.create("acct", "HMAC", ("read",))
    params = {"apiKey": record.api_key, "timestamp": NOW, "symbol": "BTCUSDT"}
    params["signature"] = hmac.new(
        record.secret.encode(), ws_signature_payload(params), hashlib.sha256
    ).hexdigest()
    assert authenticate_ws(store, params, permission="read", now_ms=NOW).account_id == "acct"
    params["symbol"] = "ETHUSDT"
    with pytest.raises(EngineError) as exc:
        authenticate_ws(store, params, permission="read", now_ms=NOW)
    assert exc.value.code == -1022


def test_listen_keys_lifecycle():
    """Create returns the active key and extends it; expiry and unknown keys are -1125."""
    keys = ListenKeys(lifetime_ms=1000, seed=1)
    k1 = keys.create("a", 0)
    assert keys.create("a", 500) == k1 and keys.account_for(k1, 1400) == "a"
    keys.keepalive(k1, 1400)
    assert keys.expire(2399) == [] and keys.expire(2400) == [(k1, "a")]
    with pytest.raises(EngineError) as exc:
        keys.keepalive(k1, 2500)
    assert exc.value.code == -1125
    k2 = keys.create("a", 3000)
    assert k2 != k1
    keys.close(k2, 3001)
    assert keys.account_for(k2, 3001) is None
