"""Compatibility suite: real Workers apps (compat/bundles), each request's answer compared with workerd's.

The answers were recorded from workerd by compat/record.mjs into compat/fixtures/<app>.json; this file needs
neither node nor workerd. One test per (app, request). Cases that shardrun gets wrong today are listed in
compat/known_failures.json with the first difference and run as strict xfails: a case that starts passing
fails the run until it is taken off the list. `python -m tests.test_compat --update` rewrites that list.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from shardrun.cli.oneshot import run_once
from shardrun.runtime.calls import HttpRequest, HttpResponse
from shardrun.runtime.script import Script

pytestmark = pytest.mark.compat

COMPAT = Path(__file__).resolve().parent.parent / "compat"
HOST = "compat.test"  # the Host both runtimes see; record.mjs sends the same (wireRequest there)


def _load(name: str) -> Any:
    return json.loads((COMPAT / name).read_text(encoding="utf-8"))


REQUESTS: dict[str, list[dict[str, Any]]] = _load("requests.json")
NORMALISE: dict[str, Any] = _load("fixtures/normalise.json")
KNOWN: dict[str, str] = _load("known_failures.json")["cases"]


def fixture(app: str) -> dict[str, Any]:
    return _load(f"fixtures/{app}.json")  # type: ignore[no-any-return]


@cache
def bundle(app: str) -> Script:
    return Script.from_bytes((COMPAT / "bundles" / f"{app}.js").read_bytes(), f"{app}.js")


def wire_request(req: dict[str, Any]) -> HttpRequest:
    """The request exactly as record.mjs sent it to workerd: host, the listed headers, connection, content-length."""
    body = req.get("body")
    data = None if body is None else body.encode("utf-8") if isinstance(body, str) else base64.b64decode(body["base64"])
    headers = [("host", HOST), *((k, v) for k, v in req["headers"]), ("connection", "close")]
    if data is not None:
        headers.append(("content-length", str(len(data))))
    return HttpRequest(req["method"], f"http://{HOST}{req['path']}", headers, data)


def normalise(app: str, status: int, headers: list[tuple[str, str]], body: bytes) -> dict[str, Any]:
    """Status, compared headers (sorted by name, repeats in order) and body, with the shared rules applied."""
    drop = set(NORMALISE["drop_headers"])
    rules = [*NORMALISE["rules"].get("*", []), *NORMALISE["rules"].get(app, [])]

    def apply(where: str, s: str) -> str:
        for r in rules:
            if r["in"] == where:
                s = re.sub(r["pattern"], literal(r["replace"]), s)
        return s

    kept = [[k.lower(), apply("header:" + k.lower(), v)] for k, v in headers if k.lower() not in drop]
    kept.sort(key=lambda h: h[0])
    try:
        out: dict[str, str] = {"text": apply("body", body.decode("utf-8"))}
    except UnicodeDecodeError:
        out = {"base64": base64.b64encode(body).decode("ascii")}
    return {"status": status, "headers": kept, "body": out}


def literal(replacement: str) -> Callable[[re.Match[str]], str]:
    """A replacement taken as is, as record.mjs does with a function (no group references)."""
    return lambda _m: replacement


def shardrun_answer(app: str, req: dict[str, Any]) -> dict[str, Any]:
    """Run the bundle in a fresh isolate on one request; a failed request is its error code and message."""
    r = run_once(bundle(app), "fetch", wire_request(req))
    if not r.ok:
        assert r.error is not None
        return {"error": f"{r.error.code}: {r.error.message}"[:300]}
    res: HttpResponse = r.value
    errors = [line.text for line in r.logs if line.level == "error"]
    return {
        **normalise(app, res.status, res.headers, res.body),
        "log": errors[0].splitlines()[0][:200] if errors else None,
    }


def first_difference(want: dict[str, Any], got: dict[str, Any]) -> str | None:
    """One line naming the first way `got` differs from workerd's answer, or None when they agree.
    Only status, headers and body are compared; `log` (the first console.error line) only explains."""
    if "error" in got:
        return f"request failed: {got['error']}"
    if got["status"] != want["status"]:
        seen = f"; console.error {short(got['log'])}" if got.get("log") else ""
        return f"status {got['status']}, workerd {want['status']} (body {short(body_text(got['body']))}{seen})"
    wh, gh = dict_of(want["headers"]), dict_of(got["headers"])
    for name in sorted(wh.keys() | gh.keys()):
        if wh.get(name) != gh.get(name):
            return f"header {name}: {short(gh.get(name))}, workerd {short(wh.get(name))}"
    if got["body"] != want["body"]:
        w, g = body_text(want["body"]), body_text(got["body"])
        at = next((i for i, (a, b) in enumerate(zip(w, g, strict=False)) if a != b), min(len(w), len(g)))
        return f"body differs at {at}: {short(g[max(0, at - 20) : at + 40])}, workerd {short(w[max(0, at - 20) : at + 40])}"
    return None


def dict_of(headers: list[list[str]]) -> dict[str, list[str]]:
    d: dict[str, list[str]] = {}
    for k, v in headers:
        d.setdefault(k, []).append(v)
    return d


def body_text(b: dict[str, str]) -> str:
    return b["text"] if "text" in b else "base64:" + b["base64"]


def short(v: str | list[str] | None) -> str:
    """A value quoted for a one-line reason: `text`, cut at 80 characters; header repeats joined by ' | '."""
    if v is None:
        return "none"
    s = " | ".join(v) if isinstance(v, list) else v
    s = s.replace("\n", "\\n")
    return "`" + (s if len(s) <= 80 else s[:77] + "...") + "`"


@dataclass(frozen=True)
class Case:
    app: str
    request: dict[str, Any]
    expected: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.app}/{self.request['name']}"


def cases() -> list[Case]:
    out: list[Case] = []
    for app, reqs in REQUESTS.items():
        recorded = {c["name"]: c["response"] for c in fixture(app)["cases"]}
        out.extend(Case(app, r, recorded[r["name"]]) for r in reqs if r["name"] in recorded)
    return out


def params() -> list[Any]:
    return [
        pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=KNOWN[c.id])] if c.id in KNOWN else [])
        for c in cases()
    ]


@pytest.mark.parametrize("case", params())
def test_answer_matches_workerd(case: Case) -> None:
    diff = first_difference(case.expected, shardrun_answer(case.app, case.request))
    assert diff is None, f"{case.id}: {diff}"


@pytest.mark.parametrize("app", sorted(REQUESTS))
def test_fixture_was_recorded_from_this_bundle_and_these_requests(app: str) -> None:
    fx = fixture(app)
    digest = hashlib.sha256((COMPAT / "bundles" / f"{app}.js").read_bytes()).hexdigest()
    assert fx["bundle_sha256"] == digest, (
        f"compat/bundles/{app}.js changed since it was recorded: run compat/record.mjs"
    )
    assert [c["name"] for c in fx["cases"]] == [r["name"] for r in REQUESTS[app]], (
        f"requests of {app} changed: re-record"
    )


def test_every_app_has_requests_and_every_known_failure_names_a_case() -> None:
    apps = {p.name for p in (COMPAT / "apps").iterdir() if p.is_dir()}
    assert apps == set(REQUESTS), "each compat/apps/<name> needs requests in compat/requests.json, and only those"
    ids = {c.id for c in cases()}
    assert set(KNOWN) <= ids, f"known_failures.json names no such case: {sorted(set(KNOWN) - ids)}"
    assert all(KNOWN.values()), "each known failure needs its reason"


def update_known_failures() -> None:
    """Run every case and rewrite compat/known_failures.json with the first difference of each failing one."""
    failing: dict[str, str] = {}
    for c in cases():
        diff = first_difference(c.expected, shardrun_answer(c.app, c.request))
        if diff is not None:
            failing[c.id] = diff
    doc = _load("known_failures.json")
    doc["cases"] = failing
    (COMPAT / "known_failures.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    total = len(cases())
    print(f"compat: shardrun passes {total - len(failing)} of {total}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python -m tests.test_compat --update")
    update_known_failures()
