"""crypto.subtle: published vectors (FIPS 180, RFC 4231, RFC 8032, RFC 5869, RFC 6070, SP 800-38A, the GCM
spec, RFC 3394), round trips against the host's `cryptography`, CryptoKey rules and the spec's error names,
and the per-isolate key table."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from shardrun.runtime import hostops
from shardrun.runtime.calls import HostOp
from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script
from shardrun.runtime.subtle import KeyTable, WebCryptoError, run

from .conftest import drive
from .serve_helpers import Server

PRELUDE = """
const hex = (b) => new Uint8Array(b).toHex();
const unhex = (s) => Uint8Array.fromHex(s);
const enc = (s) => new TextEncoder().encode(s);
const s = crypto.subtle;
const fails = async (p) => { try { await p; return "resolved"; } catch (e) { return [e.name, e instanceof DOMException || e instanceof TypeError]; } };
"""


def js(body: str, arg: Any = None, worker: WorkerIsolate | None = None) -> Any:
    """Run `body` as an async task (with `p` the argument) and return its value."""
    w = worker or WorkerIsolate(
        Script.from_source(PRELUDE + f"export default {{ async task(p) {{ {body} }} }}", "w.js")
    )
    call = w.submit("task", {} if arg is None else arg)
    drive(w, [call])
    assert call.result is not None and call.result.ok, call.result and call.result.error
    return call.result.value


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


# ---- reading crypto.subtle ---------------------------------------------------------
def test_reading_crypto_subtle_at_the_top_level_does_not_throw():
    src = "const probe = typeof crypto.subtle + (crypto.subtle === crypto.subtle);\n"
    src += "export default { task() { return [probe, String(crypto.subtle), typeof SubtleCrypto, typeof CryptoKey]; } }"
    w = WorkerIsolate(Script.from_source(src, "w.js"))
    call = w.submit("task", {})
    drive(w, [call])
    assert call.result is not None and call.result.ok, call.result.error
    assert call.result.value == ["objecttrue", "[object SubtleCrypto]", "function", "function"]


# ---- digest and HMAC -----------------------------------------------------------------
def test_digest_fips_180_vectors():
    v = js(
        "return Promise.all(['SHA-1', 'SHA-256', 'sha-384', {name: 'SHA-512'}].map(async (a) => hex(await s.digest(a, enc('abc')))));"
    )
    assert v == [
        "a9993e364706816aba3e25717850c26c9cd0d89d",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd"
        "454d4423643ce80e2a9ac94fa54ca49f",
    ]


def test_hmac_rfc_4231_cases_1_and_2_sign_and_verify():
    v = js("""
      const k1 = await s.importKey('raw', new Uint8Array(20).fill(0x0b), {name: 'HMAC', hash: 'SHA-256'}, false, ['sign', 'verify']);
      const k2 = await s.importKey('jwk', {kty: 'oct', k: 'SmVmZQ', alg: 'HS512'}, {name: 'HMAC', hash: {name: 'SHA-512'}}, true, ['sign']);
      const m1 = await s.sign('HMAC', k1, enc('Hi There'));
      return [hex(m1), hex(await s.sign('HMAC', k2, enc('what do ya want for nothing?'))),
              await s.verify('HMAC', k1, m1, enc('Hi There')), await s.verify('HMAC', k1, m1, enc('Hi there')),
              k1.algorithm, k1.usages, k1.extractable, k2.type];
    """)
    assert v[0] == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    assert v[1] == (
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fd"
        "caeab1a34d4a6b4b636e070a38bce737"
    )
    assert v[2:] == [
        True,
        False,
        {"name": "HMAC", "hash": {"name": "SHA-256"}, "length": 160},
        ["sign", "verify"],
        False,
        "secret",
    ]


# ---- Ed25519 (RFC 8032 7.1 test 1) ----------------------------------------------------------
def test_ed25519_rfc_8032_test_1():
    d = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    x = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    v = js(
        """
      const priv = await s.importKey('jwk', {kty: 'OKP', crv: 'Ed25519', d: p.d, x: p.x}, 'Ed25519', true, ['sign']);
      const pub = await s.importKey('raw', unhex(p.xhex), {name: 'Ed25519'}, true, ['verify']);
      const sig = await s.sign('Ed25519', priv, new Uint8Array(0));
      return [hex(sig), await s.verify('Ed25519', pub, sig, new Uint8Array(0)), await s.verify('Ed25519', pub, sig, enc('x')),
              hex(await s.exportKey('raw', pub)), (await s.exportKey('jwk', priv)).d];
    """,
        {"d": b64url(d), "x": b64url(x), "xhex": x.hex()},
    )
    assert v == [
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        True,
        False,
        x.hex(),
        b64url(d),
    ]


# ---- KDFs --------------------------------------------------------------------------------
def test_hkdf_rfc_5869_case_1_and_pbkdf2_rfc_6070():
    v = js("""
      const ikm = await s.importKey('raw', new Uint8Array(22).fill(0x0b), 'HKDF', false, ['deriveBits']);
      const okm = await s.deriveBits({name: 'HKDF', hash: 'SHA-256', salt: unhex('000102030405060708090a0b0c'), info: unhex('f0f1f2f3f4f5f6f7f8f9')}, ikm, 42 * 8);
      const pw = await s.importKey('raw', enc('password'), 'PBKDF2', false, ['deriveBits', 'deriveKey']);
      const pb = async (c) => hex(await s.deriveBits({name: 'PBKDF2', hash: 'SHA-1', salt: enc('salt'), iterations: c}, pw, 160));
      const aes = await s.deriveKey({name: 'PBKDF2', hash: 'SHA-256', salt: enc('salt'), iterations: 10}, pw, {name: 'AES-GCM', length: 256}, true, ['encrypt']);
      return [hex(okm), await pb(1), await pb(4096), aes.algorithm, (await s.exportKey('raw', aes)).byteLength,
              await fails(s.deriveBits({name: 'PBKDF2', hash: 'SHA-1', salt: enc('salt'), iterations: 1e6}, pw, 160)),
              await fails(s.importKey('raw', enc('x'), 'PBKDF2', true, ['deriveBits']))];
    """)
    assert v[0] == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    assert v[1] == "0c60c80f961f0e71f3a9b524af6012062fe037a6"
    assert v[2] == "4b007901b765489abead49d926f721d065a429c1"
    assert v[3:] == [{"name": "AES-GCM", "length": 256}, 32, ["NotSupportedError", True], ["SyntaxError", True]]


# ---- AES ----------------------------------------------------------------------------------
SP800_KEY = "2b7e151628aed2a6abf7158809cf4f3c"
SP800_P = "6bc1bee22e409f96e93d7e117393172a"


def test_aes_cbc_ctr_sp800_38a_gcm_spec_case_3_and_kw_rfc_3394():
    v = js(f"""
      const k = (alg, u = ['encrypt', 'decrypt']) => s.importKey('raw', unhex('{SP800_KEY}'), alg, true, u);
      const cbc = await s.encrypt({{name: 'AES-CBC', iv: unhex('000102030405060708090a0b0c0d0e0f')}}, await k('AES-CBC'), unhex('{SP800_P}'));
      const ctr = await s.encrypt({{name: 'AES-CTR', counter: unhex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff'), length: 64}}, await k('AES-CTR'), unhex('{SP800_P}'));
      const gk = await s.importKey('raw', unhex('feffe9928665731c6d6a8f9467308308'), 'AES-GCM', false, ['encrypt', 'decrypt']);
      const gp = unhex('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255');
      const g = await s.encrypt({{name: 'AES-GCM', iv: unhex('cafebabefacedbaddecaf888')}}, gk, gp);
      const back = await s.decrypt({{name: 'AES-GCM', iv: unhex('cafebabefacedbaddecaf888')}}, gk, g);
      const bad = new Uint8Array(g).slice(); bad[0] ^= 1;
      const kek = await s.importKey('raw', unhex('000102030405060708090a0b0c0d0e0f'), 'AES-KW', false, ['wrapKey', 'unwrapKey']);
      const inner = await s.importKey('raw', unhex('00112233445566778899aabbccddeeff'), 'AES-CBC', true, ['encrypt']);
      const wrapped = await s.wrapKey('raw', inner, kek, 'AES-KW');
      const un = await s.unwrapKey('raw', wrapped, kek, 'AES-KW', 'AES-CBC', true, ['decrypt']);
      return [hex(cbc).slice(0, 32), cbc.byteLength, hex(ctr), hex(g), hex(back) === hex(gp),
              await fails(s.decrypt({{name: 'AES-GCM', iv: unhex('cafebabefacedbaddecaf888')}}, gk, bad)),
              hex(wrapped), hex(await s.exportKey('raw', un)), un.usages,
              await fails(s.importKey('raw', new Uint8Array(15), 'AES-GCM', true, ['encrypt']))];
    """)
    assert v[:3] == ["7649abac8119b246cee98e9b12e9197d", 32, "874d6191b620e3261bef6864990db6ce"]
    assert v[3] == (
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05"
        "1ba30b396a0aac973d58e091473f5985" + "4d5c2af327cd64a62cf35abd2ba6fab4"
    )
    assert v[4:] == [
        True,
        ["OperationError", True],
        "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5",
        "00112233445566778899aabbccddeeff",
        ["decrypt"],
        ["DataError", True],
    ]


def test_aes_ctr_wraps_only_the_counter_bits_the_caller_named():
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key, counter = bytes(range(16)), bytes.fromhex("00" * 15 + "ff")  # low 8 bits wrap after one block
    data = bytes(48)
    v = js(
        """const k = await s.importKey('raw', unhex(p.k), 'AES-CTR', false, ['encrypt']);
           return hex(await s.encrypt({name: 'AES-CTR', counter: unhex(p.c), length: 8}, k, new Uint8Array(48)));""",
        {"k": key.hex(), "c": counter.hex()},
    )
    ecb = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    blocks = [counter, bytes(16), bytes(15) + b"\x01"]  # ff, then 00 and 01 with the upper bits kept
    assert v == b"".join(ecb.update(b) for b in blocks).hex() and len(data) == 48


# ---- RSA and EC round trips against the host --------------------------------------------------
@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


def test_rsa_pkcs1_pss_and_oaep_round_trip_with_the_host(rsa_key):
    der = rsa_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    spki = rsa_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    py_sig = rsa_key.sign(b"from python", padding.PKCS1v15(), hashes.SHA256())
    v = js(
        """
      const b = (x) => Uint8Array.fromBase64(x);
      const priv = await s.importKey('pkcs8', b(p.pkcs8), {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'}, true, ['sign']);
      const pub = await s.importKey('spki', b(p.spki), {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'}, true, ['verify']);
      const pss = await s.importKey('pkcs8', b(p.pkcs8), {name: 'RSA-PSS', hash: 'SHA-256'}, false, ['sign']);
      const oaep = await s.importKey('jwk', await s.exportKey('jwk', pub), {name: 'RSA-OAEP', hash: 'SHA-256'}, false, ['encrypt'])
        .catch((e) => e.name);
      const jwk = await s.exportKey('jwk', pub); delete jwk.alg; delete jwk.key_ops;
      const oaepPub = await s.importKey('jwk', jwk, {name: 'RSA-OAEP', hash: 'SHA-256'}, false, ['encrypt']);
      const u8 = (x) => new Uint8Array(x).toBase64();
      return [u8(await s.sign('RSASSA-PKCS1-v1_5', priv, enc('from js'))),
              await s.verify('RSASSA-PKCS1-v1_5', pub, b(p.sig), enc('from python')),
              u8(await s.sign({name: 'RSA-PSS', saltLength: 32}, pss, enc('pss'))),
              u8(await s.encrypt({name: 'RSA-OAEP', label: enc('l')}, oaepPub, enc('secret'))),
              oaep, pub.algorithm.modulusLength, hex(pub.algorithm.publicExponent), jwk.e,
              await fails(s.sign('RSASSA-PKCS1-v1_5', pub, enc('x'))),
              await fails(s.importKey('spki', b(p.spki), {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'}, true, ['sign']))];
    """,
        {"pkcs8": b64(der), "spki": b64(spki), "sig": b64(py_sig)},
    )
    pub = rsa_key.public_key()
    pub.verify(base64.b64decode(v[0]), b"from js", padding.PKCS1v15(), hashes.SHA256())
    assert v[1] is True
    pub.verify(base64.b64decode(v[2]), b"pss", padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    oaep = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), b"l")
    assert rsa_key.decrypt(base64.b64decode(v[3]), oaep) == b"secret"
    assert v[4] == "DataError"  # the RS256 JWK's alg does not fit RSA-OAEP-256
    assert v[5:] == [2048, "010001", "AQAB", ["InvalidAccessError", True], ["SyntaxError", True]]


@pytest.mark.parametrize("curve,size", [("P-256", 32), ("P-384", 48), ("P-521", 66)])
def test_ecdsa_and_ecdh_round_trip_with_the_host(curve, size):
    cls = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}[curve]
    mine, peer = ec.generate_private_key(cls()), ec.generate_private_key(cls())
    raw = mine.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    r, s_ = decode_dss_signature(mine.sign(b"py", ec.ECDSA(hashes.SHA384())))
    peer_pkcs8 = peer.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    v = js(
        """
      const b = (x) => Uint8Array.fromBase64(x);
      const pub = await s.importKey('raw', b(p.raw), {name: 'ECDSA', namedCurve: p.crv}, true, ['verify']);
      const pair = await s.generateKey({name: 'ECDSA', namedCurve: p.crv}, false, ['sign', 'verify']);
      const sig = await s.sign({name: 'ECDSA', hash: 'SHA-256'}, pair.privateKey, enc('js'));
      const dh = await s.importKey('pkcs8', b(p.peer), {name: 'ECDH', namedCurve: p.crv}, false, ['deriveBits']);
      const dhPub = await s.importKey('raw', b(p.raw), {name: 'ECDH', namedCurve: p.crv}, true, []);
      return [await s.verify({name: 'ECDSA', hash: 'SHA-384'}, pub, b(p.sig), enc('py')), sig.byteLength,
              await s.verify({name: 'ECDSA', hash: 'SHA-256'}, pair.publicKey, sig, enc('js')),
              new Uint8Array(await s.exportKey('spki', pair.publicKey)).toBase64(),
              new Uint8Array(await s.deriveBits({name: 'ECDH', public: dhPub}, dh, null)).toBase64(),
              pair.privateKey.extractable, pair.publicKey.extractable, await fails(s.exportKey('pkcs8', pair.privateKey))];
    """,
        {
            "raw": b64(raw),
            "crv": curve,
            "sig": b64(r.to_bytes(size, "big") + s_.to_bytes(size, "big")),
            "peer": b64(peer_pkcs8),
        },
    )
    assert v[:3] == [True, 2 * size, True]
    assert base64.b64decode(v[4]) == peer.exchange(ec.ECDH(), mine.public_key())
    assert v[5:] == [False, True, ["InvalidAccessError", True]]
    js_pub = serialization.load_der_public_key(base64.b64decode(v[3]))
    assert isinstance(js_pub, ec.EllipticCurvePublicKey) and js_pub.curve.name == cls.name


def test_x25519_derive_bits_matches_the_host():
    mine, peer = x25519.X25519PrivateKey.generate(), x25519.X25519PrivateKey.generate()
    v = js(
        """const k = await s.importKey('jwk', {kty: 'OKP', crv: 'X25519', d: p.d, x: p.x}, 'X25519', false, ['deriveBits']);
           const pub = await s.importKey('raw', Uint8Array.fromBase64(p.peer), 'X25519', true, []);
           return new Uint8Array(await s.deriveBits({name: 'X25519', public: pub}, k, 256)).toBase64();""",
        {
            "d": b64url(mine.private_bytes_raw()),
            "x": b64url(mine.public_key().public_bytes_raw()),
            "peer": b64(peer.public_key().public_bytes_raw()),
        },
    )
    assert base64.b64decode(v) == mine.exchange(peer.public_key())


# ---- CryptoKey and errors ---------------------------------------------------------------------
def test_crypto_key_is_opaque_and_its_rules_hold():
    v = js("""
      const k = await s.generateKey({name: 'HMAC', hash: 'SHA-256'}, false, ['sign']);
      const aes = await s.generateKey({name: 'AES-GCM', length: 128}, true, ['encrypt', 'decrypt']);
      let ctor; try { new CryptoKey(); ctor = 'constructed'; } catch (e) { ctor = e.name; }
      return [Object.getOwnPropertyNames(k), JSON.stringify(k), k.algorithm.length, k.algorithm === k.algorithm, ctor,
              Object.prototype.toString.call(k), (await s.exportKey('raw', aes)).byteLength,
              await fails(s.exportKey('raw', k)),
              await fails(s.sign('HMAC', aes, enc('x'))),
              await fails(s.sign('HMAC', {type: 'secret'}, enc('x'))),
              await fails(s.importKey('raw', enc('k'), 'HMAC', true, ['sign'])),
              await fails(s.importKey('raw', enc('k'), {name: 'HMAC', hash: 'SHA-256'}, true, ['encrypt'])),
              await fails(s.importKey('raw', enc('k'), {name: 'HMAC', hash: 'SHA-256'}, true, ['sing'])),
              await fails(s.digest('MD5', enc('x'))),
              await fails(s.encrypt({name: 'AES-CBC', iv: new Uint8Array(8)}, aes, enc('x'))),
              await fails(s.digest('SHA-256', 'not bytes'))];
    """)
    assert v == [
        [],
        "{}",
        512,
        True,
        "TypeError",
        "[object CryptoKey]",
        16,
        ["InvalidAccessError", True],
        ["InvalidAccessError", True],
        ["TypeError", True],
        ["TypeError", True],
        ["SyntaxError", True],
        ["TypeError", True],
        ["NotSupportedError", True],
        ["InvalidAccessError", True],
        ["TypeError", True],
    ]


def test_a_tampered_jws_does_not_verify_and_errors_are_dom_exceptions():
    v = js("""
      const k = await s.importKey('raw', enc('secret'), {name: 'HMAC', hash: 'SHA-256'}, false, ['verify']);
      try { await s.exportKey('jwk', k); } catch (e) { return [e.constructor === DOMException, e.name, e.code, e.message]; }
    """)
    assert v == [True, "InvalidAccessError", 15, "the key is not extractable"]


# ---- the key table ----------------------------------------------------------------------------------
def test_each_isolate_has_its_own_key_table_and_dropped_keys_are_freed():
    src = (
        PRELUDE
        + """
      let kept = [];
      export default { async task(p) {
        for (let i = 0; i < p.n; i++) {
          const k = await s.importKey('raw', enc('k' + i), {name: 'HMAC', hash: 'SHA-256'}, false, ['sign']);
          if (p.keep) kept.push(k);
        }
        await s.digest('SHA-1', enc('x'));   // carries the ids of collected keys to the host
        return kept.length;
      } }"""
    )
    a, b = (WorkerIsolate(Script.from_source(src, f"{n}.js")) for n in "ab")
    assert js("", {"n": 3, "keep": True}, a) == 3
    assert js("", {"n": 200, "keep": False}, b) == 0
    assert hostops.key_count(a) == 3
    assert hostops.key_count(b) <= 2  # the 200 dropped keys do not stay on the host
    table_a = hostops._tables[a]
    with pytest.raises(WebCryptoError) as exc:  # ids are only meaningful within their own table
        KeyTable().get(next(iter(table_a.keys)))
    assert exc.value.name == "InvalidAccessError"


def test_the_key_table_is_bounded():
    t = KeyTable(limit=2)
    args = {"m": "importKey", "format": "raw", "key": b64(b"k"), "alg": {"name": "AES-GCM"}, "usages": ["encrypt"]}
    args["key"] = b64(bytes(16))
    run(t, args)
    run(t, args)
    with pytest.raises(WebCryptoError) as exc:
        run(t, args)
    assert exc.value.name == "QuotaExceededError"
    run(t, {"m": "digest", "alg": "SHA-1", "data": "", "free": [1]})
    assert list(t.keys) == [2]


def test_fetch_stays_refused_without_a_policy_while_crypto_runs():
    w = WorkerIsolate(Script.from_source("export default { task() {} }", "w.js"))
    hostops.host_ops()(w, HostOp(1, 1, "fetch", {}))
    hostops.host_ops()(w, HostOp(2, 1, "crypto.subtle", {"m": "digest", "alg": "SHA-1", "data": ""}))
    assert [s[1][1:] for s in w._settlements] == [
        [False, {"name": "TypeError", "code": "E_FETCH_DISABLED", "message": "fetch() is not enabled for this worker"}],
        [True, {"t": "bytes", "v": b64(bytes.fromhex("da39a3ee5e6b4b0d3255bfef95601890afd80709"))}],
    ]


# ---- through a real server ----------------------------------------------------------------------------
@pytest.mark.timeout(60)
def test_hmac_sign_in_a_shard(tmp_path: Path):
    worker = """export default { async task(p) {
      const k = await crypto.subtle.importKey('raw', new TextEncoder().encode('key'), {name: 'HMAC', hash: 'SHA-256'}, false, ['sign']);
      return new Uint8Array(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(p.m))).toHex();
    } }"""
    srv = Server(tmp_path, {"mac.js": worker}, shards=1)
    try:
        r = srv.client.task("mac", {"m": "The quick brown fox jumps over the lazy dog"})
        assert r.ok, r
        assert r.value == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    finally:
        srv.close()
