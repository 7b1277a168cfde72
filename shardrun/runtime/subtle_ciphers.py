"""crypto.subtle's ciphers on the host: RSA-OAEP, AES-GCM, AES-CBC and AES-CTR (see subtle.py)."""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding as sympad
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from shardrun.runtime.subtle_keys import Key, err, new_hash, unb64


def cipher(alg: dict[str, Any], key: Key, data: bytes, enc: bool) -> bytes:
    name, k = alg["name"], key.material
    if name == "RSA-OAEP":
        label = unb64(alg["label"], "label") if alg.get("label") is not None else None
        h = new_hash(key.algorithm["hash"]["name"])
        pad = padding.OAEP(mgf=padding.MGF1(h), algorithm=new_hash(key.algorithm["hash"]["name"]), label=label)
        try:
            return k.encrypt(data, pad) if enc else k.decrypt(data, pad)
        except ValueError as exc:
            raise err("OperationError", f"RSA-OAEP: {exc}") from None
    if name == "AES-GCM":
        return _gcm(alg, k, data, enc)
    if name == "AES-CBC":
        iv = unb64(alg.get("iv"), "iv")
        if len(iv) != 16:
            raise err("OperationError", f"AES-CBC: iv must be 16 bytes, got {len(iv)}")
        c = Cipher(algorithms.AES(k), modes.CBC(iv))
        if enc:
            p = sympad.PKCS7(128).padder()
            e = c.encryptor()
            return e.update(p.update(data) + p.finalize()) + e.finalize()
        if len(data) % 16 or not data:
            raise err("OperationError", "AES-CBC: the ciphertext is not a whole number of blocks")
        d = c.decryptor()
        u = sympad.PKCS7(128).unpadder()
        try:
            return u.update(d.update(data) + d.finalize()) + u.finalize()
        except ValueError:
            raise err("OperationError", "AES-CBC: bad padding") from None
    if name == "AES-CTR":
        return _ctr(alg, k, data)
    raise err("NotSupportedError", f"{name} cannot {'encrypt' if enc else 'decrypt'}")


def _gcm(alg: dict[str, Any], k: bytes, data: bytes, enc: bool) -> bytes:
    iv = unb64(alg.get("iv"), "iv")
    aad = unb64(alg["additionalData"], "additionalData") if alg.get("additionalData") is not None else b""
    tag_bits = alg.get("tagLength", 128) if alg.get("tagLength") is not None else 128
    if tag_bits not in (32, 64, 96, 104, 112, 120, 128):
        raise err("OperationError", f"AES-GCM: tagLength {tag_bits} is not one of 32, 64, 96, 104..128")
    if not 1 <= len(iv) <= 2**20:
        raise err("OperationError", "AES-GCM: the iv must not be empty")
    n = tag_bits // 8
    try:
        if enc:
            e = Cipher(algorithms.AES(k), modes.GCM(iv)).encryptor()
            e.authenticate_additional_data(aad)
            out = e.update(data) + e.finalize()
            return out + e.tag[:n]
        if len(data) < n:
            raise err("OperationError", "AES-GCM: the ciphertext is shorter than its tag")
        d = Cipher(algorithms.AES(k), modes.GCM(iv, data[-n:], min_tag_length=n)).decryptor()
        d.authenticate_additional_data(aad)
        return d.update(data[:-n]) + d.finalize()
    except InvalidTag:
        raise err("OperationError", "AES-GCM: the data could not be authenticated") from None
    except ValueError as exc:
        raise err("OperationError", f"AES-GCM: {exc}") from None


def _ctr(alg: dict[str, Any], k: bytes, data: bytes) -> bytes:
    counter, length = unb64(alg.get("counter"), "counter"), alg.get("length")
    if len(counter) != 16 or not isinstance(length, int) or not 1 <= length <= 128:
        raise err("OperationError", "AES-CTR: counter must be 16 bytes and length 1..128 bits")
    c = int.from_bytes(counter, "big")
    mask = (1 << length) - 1
    blocks = (len(data) + 15) // 16
    if blocks > mask + 1:
        raise err("OperationError", "AES-CTR: the data is longer than the counter can count")
    first = min(blocks, mask + 1 - (c & mask))  # blocks before the counter's low bits wrap
    out = Cipher(algorithms.AES(k), modes.CTR(counter)).encryptor().update(data[: first * 16])
    if first < blocks:
        wrapped = (c & ~mask).to_bytes(16, "big")
        out += Cipher(algorithms.AES(k), modes.CTR(wrapped)).encryptor().update(data[first * 16 :])
    return out
