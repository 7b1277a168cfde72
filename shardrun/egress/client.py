"""The host side of fetch(): HTTP requests on an asyncio loop in a thread of its own.

A shard (or `shardrun run`) hands a fetch to `Egress.submit`; the result comes back through
`drain()`, and `fileno()` becomes readable when there is something to drain, so the caller
can wait on it beside its sockets. Isolates are only ever touched by the caller's thread.

aiohttp does the HTTP (pooled connections, TLS). Two sessions keep the address rule honest:
hosts allowed by a wildcard go through a resolver that refuses non-public addresses, hosts
allowed exactly through one that does not; a pooled connection of one is never used for the
other. Both resolvers refuse what the operator's deny list holds. Redirects are followed
here, one hop at a time, each hop checked like the first.

Nothing of one fetch reaches another but pooled connections and the DNS cache: no cookie jar
(DummyCookieJar), no proxy, .netrc or other environment settings (trust_env=False), no
default credentials; a request that carries connection-bound credentials (NTLM, Negotiate)
closes its connection instead of pooling it.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import ipaddress
import logging
import os
import socket
import threading
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from shardrun.egress.policy import DEFAULT_OPERATOR, EgressDenied, FetchPolicy, Operator, address_ok, check_url
from shardrun.errors import ShardrunError

if TYPE_CHECKING:
    from shardrun.egress.host import FetchRequest

log = logging.getLogger("shardrun.egress")
USER_AGENT = "shardrun"
DROP_REQUEST = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "proxy-connection",
        "te",
        "trailer",
    }
)
REDIRECTS = (301, 302, 303, 307, 308)
CROSS_ORIGIN_DROP = frozenset({"authorization", "proxy-authorization", "cookie"})
CONNECTION_BOUND_AUTH = ("ntlm", "negotiate")  # schemes that authenticate the TCP connection, not the request


class GuardedResolver(AbstractResolver):
    """A resolver that drops the addresses the operator denies, and with public_only every
    non-public one; raises EgressDenied if none is left."""

    def __init__(self, operator: Operator, public_only: bool) -> None:
        self.inner = DefaultResolver()
        self.operator = operator
        self.public_only = public_only

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        ok = [r for r in found if self._refused(ipaddress.ip_address(r["host"])) is None]
        if found and not ok:
            name, shown = host.rstrip("."), ", ".join(sorted({r["host"] for r in found}))
            why = self._refused(ipaddress.ip_address(found[0]["host"]))
            if why == "non-public":
                raise EgressDenied(
                    f"{name} resolves to non-public addresses only ({shown}); "
                    "list the host exactly in [fetch] allow to reach it"
                )
            raise EgressDenied(
                f"{name} resolves to {shown}, which the server's egress settings deny "
                f"({found[0]['host']} is in {why}), whatever the worker's allow list says"
            )
        return ok

    def _refused(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        """'non-public', the deny network that holds this address, or None if it may be reached."""
        if self.public_only and not address_ok(ip):
            return "non-public"
        net = self.operator.denied_address(ip)
        return str(net) if net is not None else None

    async def close(self) -> None:
        await self.inner.close()


class PublicOnlyResolver(GuardedResolver):
    """The resolver of hosts allowed by a wildcard, under the default operator controls."""

    def __init__(self) -> None:
        super().__init__(DEFAULT_OPERATOR, public_only=True)


def fetch_error(code: str, message: str, name: str = "TypeError") -> dict[str, str]:
    """A failed fetch as the JS side's hostError takes it."""
    return {"name": name, "code": code, "message": message}


class Egress:
    """Fetches for one process; started on first use."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.sessions: dict[tuple[bool, Operator], aiohttp.ClientSession] = {}
        self.done: collections.deque[tuple[Any, bool, Any]] = collections.deque()
        self.r, self.w = os.pipe()
        os.set_blocking(self.r, False)
        os.set_blocking(self.w, False)
        self.inflight: dict[Any, Any] = {}

    def fileno(self) -> int:
        return self.r

    def _start(self) -> None:
        ready = threading.Event()

        def main() -> None:
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=main, name="shardrun-egress", daemon=True)
        self.thread.start()
        ready.wait()

    def submit(self, key: Any, req: FetchRequest, policy: FetchPolicy, timeout_s: float) -> None:
        """Start a fetch; (key, ok, value) appears in drain() when it ends."""
        if self.loop is None:
            self._start()
        assert self.loop is not None
        fut = asyncio.run_coroutine_threadsafe(self._fetch(req, policy, timeout_s), self.loop)
        self.inflight[key] = fut

        def finished(f: Any) -> None:
            if f.cancelled():
                return
            try:
                ok, value = f.result()
            except Exception:  # a bug here must still settle the fetch
                log.exception("fetch to %s failed inside the egress client", req.url[:200])
                ok, value = False, fetch_error("E_INTERNAL", "fetch failed inside the server")
            self.done.append((key, ok, value))
            try:
                os.write(self.w, b"x")
            except BlockingIOError:
                pass  # the pipe is full of wake-ups already

        fut.add_done_callback(finished)

    def cancel(self, key: Any) -> None:
        fut = self.inflight.pop(key, None)
        if fut is not None:
            fut.cancel()

    def drain(self) -> list[tuple[Any, bool, Any]]:
        try:
            while os.read(self.r, 4096):
                pass
        except BlockingIOError:
            pass
        out = []
        while self.done:
            item = self.done.popleft()
            if self.inflight.pop(item[0], None) is not None:
                out.append(item)
        return out

    # ---- on the egress loop ---------------------------------------------------------
    def _session(self, exact: bool, operator: Operator) -> aiohttp.ClientSession:
        s = self.sessions.get((exact, operator))
        if s is None:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(operator, public_only=not exact), limit=256, ttl_dns_cache=10
            )
            s = self.sessions[exact, operator] = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=True,
                headers={"user-agent": USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
            )
        return s

    async def _fetch(self, req: FetchRequest, policy: FetchPolicy, timeout_s: float) -> tuple[bool, Any]:
        try:
            async with asyncio.timeout(timeout_s):
                return True, await self._follow(req, policy)
        except ShardrunError as exc:
            return False, fetch_error(exc.code, exc.message)
        except TimeoutError:
            return False, fetch_error(
                "E_FETCH_TIMEOUT", f"fetch to {req.url[:200]} took longer than {timeout_s * 1000:g} ms"
            )
        except aiohttp.ClientConnectorError as exc:
            cause = exc.os_error if isinstance(exc.os_error, EgressDenied) else exc.__cause__
            if isinstance(cause, EgressDenied):
                return False, fetch_error("E_EGRESS_DENIED", str(cause))
            return False, fetch_error("E_FETCH_FAILED", f"fetch failed: {exc}")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return False, fetch_error("E_FETCH_FAILED", f"fetch failed: {type(exc).__name__}: {exc}")

    async def _follow(self, req: FetchRequest, policy: FetchPolicy) -> dict[str, Any]:
        url, method, body, mode = req.url, req.method, req.body or None, req.redirect
        headers = [(k, v) for k, v in req.headers if k.lower() not in DROP_REQUEST]
        if any(
            k.lower() == "authorization" and v.strip().lower().startswith(CONNECTION_BOUND_AUTH) for k, v in headers
        ):
            headers.append(("connection", "close"))  # an authenticated connection is never pooled
        for hop in range(policy.max_redirects + 1):
            target = check_url(url, policy)
            async with self._session(target.exact, policy.operator).request(
                method, url, headers=headers, data=body, allow_redirects=False
            ) as resp:
                location = resp.headers.get("location")
                if resp.status in REDIRECTS and location and mode != "manual":
                    if mode == "error":
                        raise ShardrunError(
                            f'fetch to {url[:200]} was redirected (redirect: "error")', code="E_FETCH_FAILED"
                        )
                    nxt = str(resp.url.join(URL(location)))
                    if resp.status == 303 or (resp.status in (301, 302) and method == "POST"):
                        method, body = ("GET" if method != "HEAD" else "HEAD"), None
                        headers = [(k, v) for k, v in headers if k.lower() not in ("content-type",)]
                    if _origin(URL(nxt)) != _origin(resp.url):
                        headers = [(k, v) for k, v in headers if k.lower() not in CROSS_ORIGIN_DROP]
                    url = nxt
                    continue
                data = await _read_capped(resp, policy.max_response_bytes, url)
                out_headers = [
                    [k.lower(), v]
                    for k, v in resp.headers.items()
                    if not (
                        resp.headers.get("content-encoding") and k.lower() in ("content-encoding", "content-length")
                    )
                ]
                return {
                    "status": resp.status,
                    "statusText": resp.reason or "",
                    "headers": out_headers,
                    "body": base64.b64encode(data).decode("ascii") if data else None,
                    "url": url,
                    "redirected": hop > 0,
                }
        raise ShardrunError(
            f"fetch to {req.url[:200]}: more than {policy.max_redirects} redirects", code="E_FETCH_FAILED"
        )

    def close(self) -> None:
        if self.loop is not None:

            async def shut() -> None:
                for task in [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
                    task.cancel()  # fetches still running (their requests are gone)
                for s in self.sessions.values():
                    await s.close()
                await asyncio.sleep(0.05)  # let the closed connections' transports finish closing

            try:
                asyncio.run_coroutine_threadsafe(shut(), self.loop).result(2)
            except Exception as exc:  # closing: nothing is waiting for these any more
                log.debug("egress shutdown did not finish cleanly: %s", exc)
            self.loop.call_soon_threadsafe(self.loop.stop)
            if self.thread is not None:
                self.thread.join(2)
            if not self.loop.is_running():
                self.loop.close()
        os.close(self.r)
        os.close(self.w)


def _origin(u: URL) -> tuple[str | None, str | None, int | None]:
    return (u.scheme, u.host, u.port)


async def _read_capped(resp: aiohttp.ClientResponse, cap: int, url: str) -> bytes:
    too_big = ShardrunError(
        f"the response of {url[:200]} is larger than the limit of {cap} bytes", code="E_RESPONSE_TOO_LARGE"
    )
    if resp.content_length is not None and resp.content_length > cap:
        raise too_big
    chunks, size = [], 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > cap:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)
