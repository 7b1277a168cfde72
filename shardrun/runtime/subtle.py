"""crypto.subtle on the host: one operation in, its result out (the `cryptography` package does the work).

`run(table, args)` takes the arguments the JS side of crypto.subtle sends (js/src/subtle.js: bytes as
base64, keys as ids in the isolate's KeyTable) and returns {"t": kind, "v": value}, or raises
WebCryptoError with the spec's error name. Pure apart from the table and the CSPRNG.
"""

from __future__ import annotations

import hmac as _hmac
import json
import os
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, keywrap
from cryptography.hazmat.primitives import hmac as chmac
from cryptography.hazmat.primitives.asymmetric import ec, padding, x25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from shardrun.runtime.subtle_ciphers import cipher
from shardrun.runtime.subtle_keys import (
    AES_JWK,
    CURVE_BYTES,
    HASHES,
    USAGES,
    Key,
    KeyTable,
    WebCryptoError,
    b64,
    b64url,
    check_jwk,
    check_usages,
    err,
    export_asym,
    generate_asym,
    hash_of,
    import_asym,
    jwk_common,
    name_of,
    new_hash,
    unb64,
    unb64url,
)

__all__ = ["KeyTable", "WebCryptoError", "run"]

MAX_PBKDF2_ITERATIONS = 100_000  # workerd's limit too
SYMMETRIC = {"HMAC", "AES-GCM", "AES-CBC", "AES-CTR", "AES-KW", "PBKDF2", "HKDF"}
HASH_BLOCK_BITS = {"SHA-1": 512, "SHA-256": 512, "SHA-384": 1024, "SHA-512": 1024}


def run(table: KeyTable, args: Any) -> dict[str, Any]:
    """Do one crypto.subtle operation with this isolate's keys."""
    if not isinstance(args, dict):
        raise err("TypeError", "crypto.subtle: malformed operation")
    table.free(args.get("free"))
    method = args.get("m")
    fn = METHODS.get(method) if isinstance(method, str) else None
    if fn is None:
        raise err("NotSupportedError", f"crypto.subtle.{str(method)[:30]} is not supported")
    return fn(table, args)


def _alg(args: dict[str, Any], member: str = "alg") -> dict[str, Any]:
    raw = args.get(member)
    alg = dict(raw) if isinstance(raw, dict) else {"name": raw}
    alg["name"] = name_of(alg)
    return alg


def _key(table: KeyTable, args: dict[str, Any], alg: str, usage: str, member: str = "key") -> Key:
    key = table.get(args.get(member))
    if key.algorithm["name"] != alg:
        raise err("InvalidAccessError", f"the key is a {key.algorithm['name']} key, not {alg}")
    if usage not in key.usages:
        raise err("InvalidAccessError", f"the key's usages do not include {usage!r}")
    return key


def _bytes(v: bytes) -> dict[str, Any]:
    return {"t": "bytes", "v": b64(v)}


# ---- digest ---------------------------------------------------------------------------
def digest(table: KeyTable, args: dict[str, Any]) -> dict[str, Any]:
    name = name_of(args.get("alg"))
    if name not in HASHES:
        raise err("NotSupportedError", f"{name} is not a digest algorithm")
    h = hashes.Hash(new_hash(name))
    h.update(unb64(args.get("data"), "data"))
    return _bytes(h.finalize())


# ---- keys -----------------------------------------------------------------------------
def _length_bits(alg: dict[str, Any], raw_len: int | None = None) -> int | None:
    length = alg.get("length")
    if length is None:
        return None
    if not isinstance(length, int) or length <= 0:
        raise err("DataError" if raw_len is not None else "OperationError", "length must be a positive number of bits")
    return length


def _import_secret(fmt: str, data: Any, alg: dict[str, Any], ext: bool, usages: Any) -> Key:
    name = alg["name"]
    u = check_usages(name, "secret", usages)
    if name in ("PBKDF2", "HKDF"):
        if fmt != "raw":
            raise err("NotSupportedError", f"{name} keys can only be imported as raw")
        if ext:
            raise err("SyntaxError", f"{name} keys cannot be extractable")
        return Key("secret", False, {"name": name}, u, unb64(data, "keyData"))
    if fmt == "raw":
        raw = unb64(data, "keyData")
    elif fmt == "jwk":
        want = f"HS{hash_of(alg)[4:]}" if name == "HMAC" else None
        jwk = check_jwk(data, "oct", ext, u, want)
        raw = unb64url(jwk, "k")
        if name != "HMAC" and jwk.get("alg") not in (None, f"A{len(raw) * 8}{AES_JWK[name]}"):
            raise err("DataError", f"the JWK's alg {str(jwk.get('alg'))[:20]!r} does not match a {name} key")
    else:
        raise err("NotSupportedError", f"{name} keys cannot be imported as {fmt}")
    if name == "HMAC":
        h = hash_of(alg)
        bits = _length_bits(alg, len(raw)) or len(raw) * 8
        if not raw or not (len(raw) - 1) * 8 < bits <= len(raw) * 8:
            raise err("DataError", f"HMAC: length {bits} does not fit a {len(raw)}-byte key")
        return Key("secret", ext, {"name": name, "hash": {"name": h}, "length": bits}, u, raw)
    if len(raw) not in (16, 24, 32):
        raise err("DataError", f"{name} keys are 128, 192 or 256 bits, got {len(raw) * 8}")
    return Key("secret", ext, {"name": name, "length": len(raw) * 8}, u, raw)


def import_key(table: KeyTable, args: dict[str, Any]) -> dict[str, Any]:
    alg, fmt, ext = _alg(args), args.get("format"), bool(args.get("ext"))
    if fmt not in ("raw", "jwk", "spki", "pkcs8"):
        raise err("TypeError", f"unknown key format {str(fmt)[:20]!r}")
    return {"t": "key", "v": table.add(_import(str(fmt), args.get("key"), alg, ext, args.get("usages")))}


def _import(fmt: str, data: Any, alg: dict[str, Any], ext: bool, usages: Any) -> Key:
    if alg["name"] not in USAGES:
        raise err("NotSupportedError", f"{alg['name']} keys cannot be imported")
    if alg["name"] in SYMMETRIC:
        return _import_secret(fmt, data, alg, ext, usages)
    return import_asym(fmt, data, alg, ext, usages)


def _export(fmt: Any, key: Key) -> Any:
    if not key.extractable:
        raise err("InvalidAccessError", "the key is not extractable")
    if key.type != "secret":
        return export_asym(fmt, key)
    if fmt == "raw":
        return b64(key.material)
    if fmt != "jwk":
        raise err("NotSupportedError", f"secret keys cannot be exported as {str(fmt)[:20]}")
    name = key.algorithm["name"]
    alg = f"HS{key.algorithm['hash']['name'][4:]}" if name == "HMAC" else f"A{key.algorithm['length']}{AES_JWK[name]}"
    return {"kty": "oct", "k": b64url(key.material), "alg": alg, **jwk_common(key)}


def export_key(table: KeyTable, args: dict[str, Any]) -> dict[str, Any]:
    fmt = args.get("format")
    v = _export(fmt, table.get(args.get("key")))
    return {"t": "jwk", "v": v} if fmt == "jwk" else {"t": "bytes", "v": v}


def generate_key(table: KeyTable, args: dict[str, Any]) -> dict[str, Any]:
    alg, ext, usages = _alg(args), bool(args.get("ext")), args.get("usages")
    name = alg["name"]
    if name in ("PBKDF2", "HKDF") or name not in USAGES:
        raise err("NotSupportedError", f"{name} keys cannot be generated")
    if name not in SYMMETRIC:
        pub, priv = generate_asym(alg, ext, usages)
        return {"t": "pair", "v": {"publicKey": table.add(pub), "privateKey": table.add(priv)}}
    if name == "HMAC":
        bits = _length_bits(alg) or HASH_BLOCK_BITS[hash_of(alg)]
    else:
        bits = alg.get("length") or 0
        if bits not in (128, 192, 256):
            raise err("OperationError", f"{name}: length must be 128, 192 or 256")
    raw = bytearray(os.urandom((bits + 7) // 8))
    if bits % 8:
        raw[-1] &= 0xFF << (8 - bits % 8) & 0xFF
    fmt_alg = {**alg, "length": bits}
    return {"t": "key", "v": table.add(_import_secret("raw", b64(bytes(raw)), fmt_alg, ext, usages))}


# ---- sign / verify ----------------------------------------------------------------------
def _ecdsa_size(key: Key) -> int:
    return CURVE_BYTES[key.algorithm["namedCurve"]]


def sign(table: KeyTable, args: dict[str, Any]) -> dict[str, Any]:
    alg = _alg(args)
    key = _key(table, args, alg["name"], "sign")
    data, k, name = unb64(args.get("data"), "data"), key.material, alg["name"]
    if name == "HMAC":
        return _bytes(_hmac.new(k, data, key.algorithm["hash"]["name"].replace("-", "").lower()).digest())
    if name == "RSASSA-PKCS1-v1_5":
        return _bytes(k.sign(data, padding.PKCS1v15(), new_hash(key.algorithm["hash"]["name"])))
    if name == "RSA-PSS":
        return _bytes(k.sign(data, _pss(alg, key), new_hash(key.algorithm["hash"]["name"])))
    if name == "ECDSA":
        r, s = decode_dss_signature(k.sign(data, ec.ECDSA(new_hash(hash_of(alg)))))
        n = _ecdsa_size(key)
        return _bytes(r.to_bytes(n, "big") + s.to_bytes(n, "big"))
    if name == "Ed25519":
        return _bytes(k.sign(data))
    raise err("NotSupportedError", f"{name} cannot sign")


def _pss(alg: dict[str, Any], key: Key) -> padding.PSS:
    salt = alg.get("saltLength")
    if not isinstance(salt, int) or salt < 0:
        raise err("TypeError", "RSA-PSS needs a saltLength")
    return padding.PSS(mgf=padding.MGF1(new_hash(key.algorithm["hash"]["name"])), salt_length=salt)


def verify(table: KeyTable, args: dict[str, Any]) -> dict[str, Any]:
    alg = _alg(args)
    key = _key(table, args, alg["name"], "verify")
    data, sig, k, name = unb64(args.get("data"), "data"), unb64(args.get("sig"), "signature"), key.material, alg["name"]
    if name == "HMAC":
        mac = chmac.HMAC(k, new_hash(key.algorithm["hash"]["name"]))
        mac.update(data)
        return {"t": "bool", "v": _hmac.compare_digest(mac.finalize(), sig)}
    try:
        if name == "RSASSA-PKCS1-v1_5":
            k.verify(sig, data, padding.PKCS1v15(), new_hash(key.algorithm["hash"]["name"]))
        elif name == "RSA-PSS":
            k.verify(sig, data, _pss(alg, key), new_hash(key.algorithm["hash"]["name"]))
        elif name == "ECDSA":
            n = _ecdsa_size(key)
            if len(sig) != 2 * n:
                return {"t": "bool", "v": False}
            der = encode_dss_signature(int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big"))
            k.verify(der, data, ec.ECDSA(new_hash(hash_of(alg))))
        elif name == "Ed25519":
            k.verify(sig, data)
        else:
            raise err("NotSupportedError", f"{name} cannot verify")
    except InvalidSignature:
        return {"t": "bool", "v": False}
    return {"t": "bool", "v": True}


# ---- encrypt / decrypt ------------------------------------------------------------------
def encrypt(table: KeyTable, args: dict[str, Any], enc: bool = True) -> dict[str, Any]:
    alg = _alg(args)
    key = _key(table, args, alg["name"], "encrypt" if enc else "decrypt")
    return _bytes(cipher(alg, key, unb64(args.get("data"), "data"), enc))


# ---- derive ------------------------------------------------------------------------------
def _derive(table: KeyTable, args: dict[str, Any], length: Any, usage: str) -> bytes:
    alg = _alg(args)
    name = alg["name"]
    key = _key(table, args, name, usage)
    if name in ("ECDH", "X25519"):
        pub = table.get(alg.get("public"))
        if pub.type != "public" or pub.algorithm != key.algorithm:
            raise err("InvalidAccessError", f"{name}: public must be a public {name} key of the same curve")
        if name == "X25519":
            assert isinstance(pub.material, x25519.X25519PublicKey)
            secret = key.material.exchange(pub.material)
            if not any(secret):
                raise err("OperationError", "X25519: the shared secret is all zeros")
        else:
            secret = key.material.exchange(ec.ECDH(), pub.material)
        if length is None:
            return secret
        if not isinstance(length, int) or length > len(secret) * 8:
            raise err("OperationError", f"{name}: length is over the {len(secret) * 8} bits of the secret")
        out = bytearray(secret[: (length + 7) // 8])
        if length % 8:
            out[-1] &= 0xFF << (8 - length % 8) & 0xFF
        return bytes(out)
    if not isinstance(length, int) or length <= 0 or length % 8:
        raise err("OperationError", f"{name}: length must be a positive multiple of 8")
    h = hash_of(alg)
    salt = unb64(alg.get("salt"), "salt")
    if name == "PBKDF2":
        it = alg.get("iterations")
        if not isinstance(it, int) or it <= 0:
            raise err("OperationError", "PBKDF2: iterations must be positive")
        if it > MAX_PBKDF2_ITERATIONS:
            raise err("NotSupportedError", f"PBKDF2: iteration counts above {MAX_PBKDF2_ITERATIONS} are not supported")
        return PBKDF2HMAC(new_hash(h), length // 8, salt, it).derive(key.material)
    if name == "HKDF":
        info = unb64(alg.get("info"), "info")
        try:
            return HKDF(new_hash(h), length // 8, salt, info).derive(key.material)
        except ValueError as exc:
            raise err("OperationError", f"HKDF: {exc}") from None
    raise err("NotSupportedError", f"{name} cannot derive")


def derive_bits(table: KeyTable, args: dict[str, Any]) -> dict[str, Any]:
    return _bytes(_derive(table, args, args.get("length"), "deriveBits"))


def derive_key(table: KeyTable, args: dict[str, Any]) -> dict[str, Any]:
    dalg = _alg(args, "dalg")
    name = dalg["name"]
    if name == "HMAC":
        length = _length_bits(dalg) or HASH_BLOCK_BITS[hash_of(dalg)]
    elif name in ("AES-GCM", "AES-CBC", "AES-CTR", "AES-KW"):
        length = dalg.get("length") or 0
        if length not in (128, 192, 256):
            raise err("OperationError", f"{name}: length must be 128, 192 or 256")
    else:
        raise err("NotSupportedError", f"{name} keys cannot be derived")
    raw = _derive(table, args, length, "deriveKey")
    key = _import_secret("raw", b64(raw), dalg, bool(args.get("ext")), args.get("usages"))
    return {"t": "key", "v": table.add(key)}


# ---- wrap / unwrap -------------------------------------------------------------------------
def wrap_key(table: KeyTable, args: dict[str, Any]) -> dict[str, Any]:
    fmt, alg = args.get("format"), _alg(args)
    wrapper = _key(table, args, alg["name"], "wrapKey", "wrap")
    exported = _export(fmt, table.get(args.get("key")))
    data = json.dumps(exported).encode() if fmt == "jwk" else unb64(exported, "key")
    if alg["name"] == "AES-KW":
        if len(data) % 8:
            raise err("OperationError", "AES-KW: the key's bytes are not a multiple of 8")
        return _bytes(keywrap.aes_key_wrap(wrapper.material, data))
    return _bytes(cipher(alg, wrapper, data, True))


def unwrap_key(table: KeyTable, args: dict[str, Any]) -> dict[str, Any]:
    fmt, alg, kalg = args.get("format"), _alg(args), _alg(args, "kalg")
    unwrapper = _key(table, args, alg["name"], "unwrapKey", "wrap")
    data = unb64(args.get("data"), "wrappedKey")
    if alg["name"] == "AES-KW":
        try:
            raw = keywrap.aes_key_unwrap(unwrapper.material, data)
        except (keywrap.InvalidUnwrap, ValueError):
            raise err("OperationError", "AES-KW: the wrapped key could not be unwrapped") from None
    else:
        raw = cipher(alg, unwrapper, data, False)
    if fmt == "jwk":
        try:
            key_data: Any = json.loads(raw)
        except ValueError:
            raise err("DataError", "the unwrapped key is not JSON") from None
    else:
        key_data = b64(raw)
    return {"t": "key", "v": table.add(_import(str(fmt), key_data, kalg, bool(args.get("ext")), args.get("usages")))}


METHODS = {
    "digest": digest,
    "importKey": import_key,
    "exportKey": export_key,
    "generateKey": generate_key,
    "sign": sign,
    "verify": verify,
    "encrypt": encrypt,
    "decrypt": lambda t, a: encrypt(t, a, False),
    "deriveBits": derive_bits,
    "deriveKey": derive_key,
    "wrapKey": wrap_key,
    "unwrapKey": unwrap_key,
}
