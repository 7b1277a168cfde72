"""Body and crypto benchmarks: the fetch fast path, bodies as streams, crypto.subtle, a JWT verify.

    .venv/bin/python -m bench.bodies_bench [--seconds 1.0] [--json FILE]

Each row is a warm call on one WorkerIsolate (median of 5 timed loops of at least --seconds),
driven to its end (host operations settled by pumping). The first two rows are the fetch
fast path: a hello Response returned as it is, and the same Response whose `.body` was read
(so it becomes a ReadableStream and is read back by the runtime). Compare within one run.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import sys
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bench.runtime_bench import per_call_us
from shardrun.runtime.calls import HttpRequest
from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script

REQ = HttpRequest("GET", "https://hello.workers.localhost/")
HELLO = "export default { fetch(r) { return new Response('Hello World') } }"
HELLO_STREAM = "export default { fetch(r) { const res = new Response('Hello World'); res.body; return res } }"
MB = """const big = new Uint8Array(1 << 20).fill(97);
export default {
  async task(p) {
    const r = new Response(big);
    if (p === "text") return (await r.text()).length;
    let n = 0;
    for await (const c of r.body) n += c.length;
    return n;
  },
}"""
HMAC = """let key;
const data = new TextEncoder().encode("a message to sign, of a usual size for a cookie or a token");
export default {
  async task() {
    key ??= await crypto.subtle.importKey("raw", new Uint8Array(32).fill(7), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await crypto.subtle.sign("HMAC", key, data)).length;
  },
}"""
JWT = """let key;
const b64url = (s) => Uint8Array.fromBase64(s, { alphabet: "base64url" });
export default {
  async task(p, env) {
    key ??= await crypto.subtle.importKey("spki", b64url(env.SPKI), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]);
    const [h, b, s] = env.JWT.split(".");
    const ok = await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, b64url(s), new TextEncoder().encode(h + "." + b));
    return ok && JSON.parse(new TextDecoder().decode(b64url(b))).sub;
  },
}"""


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt_env() -> dict[str, str]:
    """An RS256 JWT and its public key (SPKI), made here with the host's `cryptography`."""
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    head = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps({"sub": "user-1", "iat": 1_700_000_000}).encode())
    sig = k.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    spki = k.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"JWT": f"{head}.{body}.{b64url(sig)}", "SPKI": b64url(spki)}


def driven(w: WorkerIsolate, kind: str, arg: Any, expect: Any = None) -> Any:
    """A call that runs the request to its end and checks its answer."""

    def call() -> None:
        c = w.submit(kind, arg)
        while not c.finished:
            w.pump()
        assert c.result is not None and c.result.ok, c.result and c.result.error
        if expect is not None:
            assert c.result.value == expect, c.result.value

    return call


def measure(seconds: float) -> dict[str, float]:
    rows = {}
    rows["hello_fetch_us"] = per_call_us(
        driven(WorkerIsolate(Script.from_source(HELLO, "h.js")), "fetch", REQ), seconds
    )
    rows["hello_fetch_stream_us"] = per_call_us(
        driven(WorkerIsolate(Script.from_source(HELLO_STREAM, "h.js")), "fetch", REQ), seconds
    )
    mb = WorkerIsolate(Script.from_source(MB, "mb.js"))
    rows["mb_text_us"] = per_call_us(driven(mb, "task", "text", 1 << 20), seconds)
    rows["mb_stream_us"] = per_call_us(driven(mb, "task", "stream", 1 << 20), seconds)
    rows["hmac_sign_us"] = per_call_us(
        driven(WorkerIsolate(Script.from_source(HMAC, "hmac.js")), "task", 0, 32), seconds
    )
    jw = WorkerIsolate(Script.from_source(JWT, "jwt.js"), env=jwt_env())
    rows["jwt_rs256_verify_us"] = per_call_us(driven(jw, "task", 0, "user-1"), seconds)
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="length of each timed loop")
    ap.add_argument("--json", help="write every figure to this file")
    args = ap.parse_args(argv)
    rows = measure(args.seconds)
    table = [
        ("hello fetch (string body, returned as it is)", rows["hello_fetch_us"]),
        ("hello fetch, `.body` read first (a ReadableStream read back)", rows["hello_fetch_stream_us"]),
        ("1 MiB body read with text()", rows["mb_text_us"]),
        ("1 MiB body read as a stream (for await over .body)", rows["mb_stream_us"]),
        ("HMAC-SHA256 sign (crypto.subtle, key imported once)", rows["hmac_sign_us"]),
        ("JWT verify, RS256 (2048-bit key imported once)", rows["jwt_rs256_verify_us"]),
    ]
    print(
        f"# shardrun bodies and crypto bench — {platform.machine()}, {sys.implementation.name} {platform.python_version()}"
    )
    print("| measurement | µs per call |\n|---|---:|")
    for name, us in table:
        print(f"| {name} | {us:,.1f} |")
    if args.json:
        os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"seconds": args.seconds, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
