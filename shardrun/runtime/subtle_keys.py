"""WebCrypto keys on the host: the key table, algorithm names and usages, import, export and generation.

Key material never leaves the host: JS holds a key's id in its isolate's KeyTable. Every function here
is pure (arguments in, a value out) and fails with WebCryptoError carrying the spec's error name.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519

MAX_KEYS = 4096  # keys one isolate may hold at once
MAX_RSA_BITS = 8192  # import
MAX_RSA_GENERATE_BITS = 4096  # generation runs on the shard's loop

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA-1": hashes.SHA1,
    "SHA-256": hashes.SHA256,
    "SHA-384": hashes.SHA384,
    "SHA-512": hashes.SHA512,
}
CURVES: dict[str, type[ec.EllipticCurve]] = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}
CURVE_BYTES = {"P-256": 32, "P-384": 48, "P-521": 66}
USAGE_ORDER = ("encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey")
_AES_USAGES: tuple[set[str], set[str]] = ({"encrypt", "decrypt", "wrapKey", "unwrapKey"}, set())
# algorithm -> (usages of a secret or private key, usages of a public key)
USAGES: dict[str, tuple[set[str], set[str]]] = {
    "HMAC": ({"sign", "verify"}, set()),
    "RSASSA-PKCS1-v1_5": ({"sign"}, {"verify"}),
    "RSA-PSS": ({"sign"}, {"verify"}),
    "RSA-OAEP": ({"decrypt", "unwrapKey"}, {"encrypt", "wrapKey"}),
    "ECDSA": ({"sign"}, {"verify"}),
    "ECDH": ({"deriveKey", "deriveBits"}, set()),
    "Ed25519": ({"sign"}, {"verify"}),
    "X25519": ({"deriveKey", "deriveBits"}, set()),
    "AES-GCM": _AES_USAGES,
    "AES-CBC": _AES_USAGES,
    "AES-CTR": _AES_USAGES,
    "AES-KW": ({"wrapKey", "unwrapKey"}, set()),
    "PBKDF2": ({"deriveKey", "deriveBits"}, set()),
    "HKDF": ({"deriveKey", "deriveBits"}, set()),
}
NAMES = {n.upper(): n for n in [*USAGES, *HASHES]}
RSA_JWK_ALG = {
    "RSASSA-PKCS1-v1_5": {"SHA-1": "RS1", "SHA-256": "RS256", "SHA-384": "RS384", "SHA-512": "RS512"},
    "RSA-PSS": {"SHA-1": "PS1", "SHA-256": "PS256", "SHA-384": "PS384", "SHA-512": "PS512"},
    "RSA-OAEP": {"SHA-1": "RSA-OAEP", "SHA-256": "RSA-OAEP-256", "SHA-384": "RSA-OAEP-384", "SHA-512": "RSA-OAEP-512"},
}
AES_JWK = {"AES-GCM": "GCM", "AES-CBC": "CBC", "AES-CTR": "CTR", "AES-KW": "KW"}


class WebCryptoError(Exception):
    """A WebCrypto failure: `name` is the DOMException name the spec gives it."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def err(name: str, message: str) -> WebCryptoError:
    return WebCryptoError(name, message)


@dataclass
class Key:
    type: str  # secret | public | private
    extractable: bool
    algorithm: dict[str, Any]  # as JS shows it (publicExponent as base64)
    usages: list[str]
    material: Any  # bytes for secret keys, a cryptography key object otherwise

    def info(self, kid: int) -> dict[str, Any]:
        return {"id": kid, "type": self.type, "ext": self.extractable, "alg": self.algorithm, "usages": self.usages}


class KeyTable:
    """One isolate's keys by id; made with the isolate's first crypto op and dropped with it."""

    def __init__(self, limit: int = MAX_KEYS) -> None:
        self.limit = limit
        self.keys: dict[int, Key] = {}
        self.next_id = 1

    def add(self, key: Key) -> dict[str, Any]:
        if len(self.keys) >= self.limit:
            raise err("QuotaExceededError", f"this isolate holds {len(self.keys)} CryptoKeys, its limit")
        kid, self.next_id = self.next_id, self.next_id + 1
        self.keys[kid] = key
        return key.info(kid)

    def get(self, kid: Any) -> Key:
        key = self.keys.get(kid) if isinstance(kid, int) else None
        if key is None:
            raise err("InvalidAccessError", "the CryptoKey is not one of this worker's keys")
        return key

    def free(self, ids: Any) -> None:
        if isinstance(ids, list):
            for kid in ids:
                if isinstance(kid, int):
                    self.keys.pop(kid, None)


# ---- small conversions ------------------------------------------------------------
def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(v: Any, what: str) -> bytes:
    if not isinstance(v, str):
        raise err("TypeError", f"{what} must be a BufferSource")
    return base64.b64decode(v)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(jwk: dict[str, Any], member: str) -> bytes:
    v = jwk.get(member)
    if not isinstance(v, str):
        raise err("DataError", f"the JWK has no {member!r} member (a base64url string)")
    try:
        return base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))
    except (binascii.Error, ValueError):
        raise err("DataError", f"the JWK's {member!r} member is not base64url") from None


def uint(data: bytes) -> int:
    return int.from_bytes(data, "big")


def uint_bytes(n: int, size: int = 0) -> bytes:
    return n.to_bytes(max(size, (n.bit_length() + 7) // 8, 1), "big")


def name_of(v: Any, what: str = "algorithm") -> str:
    if isinstance(v, dict):
        v = v.get("name")
    if not isinstance(v, str):
        raise err("TypeError", f"the {what} has no name")
    name = NAMES.get(v.upper())
    if name is None:
        raise err("NotSupportedError", f"unrecognized {what} name {v[:40]!r}")
    return name


def hash_of(alg: dict[str, Any]) -> str:
    if alg.get("hash") is None:
        raise err("TypeError", f"{alg['name']}: the algorithm needs a hash")
    h = name_of(alg["hash"], "hash")
    if h not in HASHES:
        raise err("NotSupportedError", f"{h} is not a hash")
    return h


def new_hash(name: str) -> hashes.HashAlgorithm:
    return HASHES[name]()


def check_usages(alg: str, kind: str, usages: Any) -> list[str]:
    """The usages of a new key, in the spec's order; SyntaxError for one its algorithm does not have."""
    if not isinstance(usages, list) or not all(isinstance(u, str) for u in usages):
        raise err("TypeError", "keyUsages must be a list of strings")
    allowed = USAGES[alg][1 if kind == "public" else 0]
    for u in usages:
        if u not in allowed:
            raise err("SyntaxError", f"{alg} {kind} keys cannot be used to {u}")
    if kind != "public" and not usages:
        raise err("SyntaxError", f"{alg}: a {kind} key needs at least one usage")
    return [u for u in USAGE_ORDER if u in usages]


def check_jwk(jwk: Any, kty: str, ext: bool, usages: list[str], alg: str | None) -> dict[str, Any]:
    if not isinstance(jwk, dict):
        raise err("DataError", "the JWK must be an object")
    if jwk.get("kty") != kty:
        raise err("DataError", f"the JWK's kty must be {kty!r}, got {str(jwk.get('kty'))[:20]!r}")
    if alg is not None and jwk.get("alg") not in (None, alg):
        raise err("DataError", f"the JWK's alg {str(jwk.get('alg'))[:20]!r} does not match {alg!r}")
    if jwk.get("ext") is False and ext:
        raise err("DataError", "the JWK is not extractable (ext: false), so the key cannot be")
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or any(u not in ops for u in usages)):
        raise err("DataError", "the JWK's key_ops do not allow the requested usages")
    use = jwk.get("use")
    if (
        use is not None
        and usages
        and use != ("enc" if set(usages) & {"encrypt", "decrypt", "wrapKey", "unwrapKey"} else "sig")
    ):
        raise err("DataError", f"the JWK's use {str(use)[:10]!r} does not allow the requested usages")
    return jwk


def jwk_common(key: Key) -> dict[str, Any]:
    return {"key_ops": key.usages, "ext": key.extractable}


# ---- asymmetric import ------------------------------------------------------------
def import_asym(fmt: str, data: Any, alg: dict[str, Any], ext: bool, usages: Any) -> Key:
    name = alg["name"]
    if name.startswith("RSA"):
        return _import_rsa(fmt, data, alg, ext, usages)
    if name in ("ECDSA", "ECDH"):
        return _import_ec(fmt, data, alg, ext, usages)
    return _import_okp(fmt, data, name, ext, usages)


def _der(fmt: str, data: Any) -> Any:
    raw = unb64(data, "keyData")
    try:
        if fmt == "spki":
            return serialization.load_der_public_key(raw)
        return serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise err("DataError", f"keyData is not a valid {fmt} key") from None


def _finish(name: str, key: Any, algorithm: dict[str, Any], ext: bool, usages: Any) -> Key:
    kind = "private" if hasattr(key, "private_bytes") else "public"
    return Key(kind, ext, algorithm, check_usages(name, kind, usages), key)


def rsa_algorithm(name: str, key: Any, h: str) -> dict[str, Any]:
    pub = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    nums = pub.public_numbers()
    return {"name": name, "modulusLength": pub.key_size, "publicExponent": b64(uint_bytes(nums.e)), "hash": {"name": h}}


def _import_rsa(fmt: str, data: Any, alg: dict[str, Any], ext: bool, usages: Any) -> Key:
    name, h = alg["name"], hash_of(alg)
    if fmt in ("spki", "pkcs8"):
        key = _der(fmt, data)
    elif fmt == "jwk":
        jwk = check_jwk(data, "RSA", ext, usages if isinstance(usages, list) else [], RSA_JWK_ALG[name][h])
        pub = rsa.RSAPublicNumbers(uint(unb64url(jwk, "e")), uint(unb64url(jwk, "n")))
        try:
            if "d" not in jwk:
                key = pub.public_key()
            else:
                p, q = uint(unb64url(jwk, "p")), uint(unb64url(jwk, "q"))
                dp, dq, qi = (uint(unb64url(jwk, m)) for m in ("dp", "dq", "qi"))
                key = rsa.RSAPrivateNumbers(p, q, uint(unb64url(jwk, "d")), dp, dq, qi, pub).private_key()
        except ValueError as exc:
            raise err("DataError", f"the JWK is not a valid RSA key: {exc}") from None
    else:
        raise err("NotSupportedError", f"{name} keys cannot be imported as {fmt}")
    if not isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        raise err("DataError", f"keyData is not an RSA key, as {name} needs")
    if key.key_size > MAX_RSA_BITS:
        raise err("NotSupportedError", f"RSA keys over {MAX_RSA_BITS} bits are not supported")
    return _finish(name, key, rsa_algorithm(name, key, h), ext, usages)


def _curve_of(alg: dict[str, Any]) -> str:
    c = alg.get("namedCurve")
    if c not in CURVES:
        raise err("NotSupportedError", f"{alg['name']}: unsupported namedCurve {str(c)[:20]!r} (P-256, P-384, P-521)")
    return str(c)


def _import_ec(fmt: str, data: Any, alg: dict[str, Any], ext: bool, usages: Any) -> Key:
    name, crv = alg["name"], _curve_of(alg)
    key: Any
    if fmt == "raw":
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(CURVES[crv](), unb64(data, "keyData"))
        except ValueError:
            raise err("DataError", f"keyData is not a {crv} point") from None
    elif fmt in ("spki", "pkcs8"):
        key = _der(fmt, data)
    elif fmt == "jwk":
        jwk = check_jwk(data, "EC", ext, usages if isinstance(usages, list) else [], None)
        if jwk.get("crv") != crv:
            raise err("DataError", f"the JWK's crv {str(jwk.get('crv'))[:10]!r} is not {crv}")
        if name == "ECDSA" and jwk.get("alg") not in (
            None,
            {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[crv],
        ):
            raise err("DataError", f"the JWK's alg {str(jwk.get('alg'))[:10]!r} does not match {crv}")
        pub = ec.EllipticCurvePublicNumbers(uint(unb64url(jwk, "x")), uint(unb64url(jwk, "y")), CURVES[crv]())
        try:
            key = (
                ec.EllipticCurvePrivateNumbers(uint(unb64url(jwk, "d")), pub).private_key()
                if "d" in jwk
                else pub.public_key()
            )
        except ValueError as exc:
            raise err("DataError", f"the JWK is not a valid {crv} key: {exc}") from None
    else:
        raise err("NotSupportedError", f"{name} keys cannot be imported as {fmt}")
    if not isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        raise err("DataError", f"keyData is not an elliptic-curve key, as {name} needs")
    if not isinstance(key.curve, CURVES[crv]):
        raise err("DataError", f"keyData is a {key.curve.name} key, not {crv}")
    return _finish(name, key, {"name": name, "namedCurve": crv}, ext, usages)


OKP: dict[str, tuple[Any, Any]] = {
    "Ed25519": (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey),
    "X25519": (x25519.X25519PublicKey, x25519.X25519PrivateKey),
}


def _import_okp(fmt: str, data: Any, name: str, ext: bool, usages: Any) -> Key:
    pub_cls, priv_cls = OKP[name]
    try:
        if fmt == "raw":
            key = pub_cls.from_public_bytes(unb64(data, "keyData"))
        elif fmt in ("spki", "pkcs8"):
            key = _der(fmt, data)
        elif fmt == "jwk":
            jwk = check_jwk(data, "OKP", ext, usages if isinstance(usages, list) else [], None)
            if jwk.get("crv") != name:
                raise err("DataError", f"the JWK's crv {str(jwk.get('crv'))[:10]!r} is not {name}")
            if "d" in jwk:
                key = priv_cls.from_private_bytes(unb64url(jwk, "d"))
                if key.public_key().public_bytes_raw() != unb64url(jwk, "x"):
                    raise err("DataError", "the JWK's x is not the public key of its d")
            else:
                key = pub_cls.from_public_bytes(unb64url(jwk, "x"))
        else:
            raise err("NotSupportedError", f"{name} keys cannot be imported as {fmt}")
    except ValueError:
        raise err("DataError", f"keyData is not a valid {name} key") from None
    if not isinstance(key, (pub_cls, priv_cls)):
        raise err("DataError", f"keyData is not an {name} key")
    return _finish(name, key, {"name": name}, ext, usages)


# ---- export -------------------------------------------------------------------------
def export_asym(fmt: str, key: Key) -> Any:
    k, name = key.material, key.algorithm["name"]
    if fmt == "spki" and key.type == "public":
        return b64(k.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    if fmt == "pkcs8" and key.type == "private":
        der = k.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return b64(der)
    if fmt == "raw" and key.type == "public" and name in ("ECDSA", "ECDH"):
        return b64(k.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
    if fmt == "raw" and key.type == "public" and name in OKP:
        return b64(k.public_bytes_raw())
    if fmt != "jwk":
        raise err("InvalidAccessError", f"a {key.type} {name} key cannot be exported as {fmt}")
    jwk: dict[str, Any]
    if name.startswith("RSA"):
        pub = k.public_key() if key.type == "private" else k
        n = pub.public_numbers()
        jwk = {"kty": "RSA", "alg": RSA_JWK_ALG[name][key.algorithm["hash"]["name"]], "n": b64url(uint_bytes(n.n))}
        jwk["e"] = b64url(uint_bytes(n.e))
        if key.type == "private":
            p = k.private_numbers()
            for m, v in (("d", p.d), ("p", p.p), ("q", p.q), ("dp", p.dmp1), ("dq", p.dmq1), ("qi", p.iqmp)):
                jwk[m] = b64url(uint_bytes(v))
    elif name in ("ECDSA", "ECDH"):
        crv = key.algorithm["namedCurve"]
        size = CURVE_BYTES[crv]
        n = (k.public_key() if key.type == "private" else k).public_numbers()
        jwk = {"kty": "EC", "crv": crv, "x": b64url(uint_bytes(n.x, size)), "y": b64url(uint_bytes(n.y, size))}
        if key.type == "private":
            jwk["d"] = b64url(uint_bytes(k.private_numbers().private_value, size))
    else:
        pub = k.public_key() if key.type == "private" else k
        jwk = {"kty": "OKP", "crv": name, "x": b64url(pub.public_bytes_raw())}
        if key.type == "private":
            jwk["d"] = b64url(k.private_bytes_raw())
    return {**jwk, **jwk_common(key)}


# ---- generation ------------------------------------------------------------------------
def generate_asym(alg: dict[str, Any], ext: bool, usages: Any) -> tuple[Key, Key]:
    name = alg["name"]
    if not isinstance(usages, list) or not all(isinstance(u, str) for u in usages):
        raise err("TypeError", "keyUsages must be a list of strings")
    priv_u, pub_u = USAGES[name]
    bad = [u for u in usages if u not in priv_u | pub_u]
    if bad:
        raise err("SyntaxError", f"{name} keys cannot be used to {bad[0]}")
    priv: Any
    if name.startswith("RSA"):
        h, bits = hash_of(alg), alg.get("modulusLength")
        e = uint(unb64(alg.get("publicExponent"), "publicExponent"))
        if not isinstance(bits, int) or not 1024 <= bits <= MAX_RSA_GENERATE_BITS or bits % 8:
            raise err("OperationError", f"modulusLength must be a multiple of 8 from 1024 to {MAX_RSA_GENERATE_BITS}")
        if e not in (3, 65537):
            raise err("OperationError", "publicExponent must be 3 or 65537")
        priv = rsa.generate_private_key(e, bits)
        algorithm = rsa_algorithm(name, priv, h)
    elif name in ("ECDSA", "ECDH"):
        crv = _curve_of(alg)
        priv, algorithm = ec.generate_private_key(CURVES[crv]()), {"name": name, "namedCurve": crv}
    else:
        priv, algorithm = OKP[name][1].generate(), {"name": name}
    pub_usages = [u for u in USAGE_ORDER if u in usages and u in pub_u]
    priv_usages = [u for u in USAGE_ORDER if u in usages and u in priv_u]
    if not priv_usages:
        raise err("SyntaxError", f"{name}: the private key needs at least one usage")
    return Key("public", True, algorithm, pub_usages, priv.public_key()), Key(
        "private", ext, algorithm, priv_usages, priv
    )
