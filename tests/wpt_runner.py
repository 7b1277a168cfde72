"""Run web-platform-tests files (tests/wpt/suite, from scripts/wpt-refresh) in isolates.

Each test file runs in a fresh isolate as the task handler of a worker: testharness.js, then
the scripts the file names (`// META: script=`, `importScripts()`), then the file itself, all
evaluated in the global scope. Each subtest's result is reported through testharness's own
result callbacks and returned as the task's result. tests/wpt/expectations.json lists, per
file, the number of subtests and those known to fail with the reason.

    python -m tests.wpt_runner             pass counts per folder
    python -m tests.wpt_runner --update    rewrite the expectations from this run
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from shardrun.cli.oneshot import run_once
from shardrun.engine.limits import Limits
from shardrun.runtime.script import Script

HERE = Path(__file__).parent / "wpt"
SUITE = HERE / "suite"
ENTRIES = HERE / "entries"  # our own entry files over WPT scripts (e.g. the structured clone battery)
EXPECTATIONS = HERE / "expectations.json"
HARNESS = "resources/testharness.js"
META = re.compile(r"^//\s*META:\s*(\w+)=(.*)$", re.M)
STATIC = re.compile(r"[\"']([\w./-]+\.json)[\"']")
IMPORT = re.compile(r"importScripts\(\s*[\"']([^\"']+)[\"']")
WORKER_GLOBALS = {"worker", "dedicatedworker", "serviceworker", "sharedworker", "shadowrealm", "jsshell"}
FILE_MS = 20_000  # a file whose subtests have not all finished by then reports what it has
STATUS = {0: "PASS", 1: "FAIL", 2: "TIMEOUT", 3: "NOTRUN", 4: "PRECONDITION_FAILED"}

# What WPT's worker wrapper (the generated .any.worker.js) sets up, then the harness and the
# scripts: testharness.js in one eval, the file and its scripts in a second (one script body,
# so their top-level let/const are shared as they are between classic scripts).
RUNNER = r"""
const FILES = %s;
const G = globalThis;
const wf = (s) => String(s).toWellFormed();
export default {
  task() {
    return new Promise((resolve) => {
      const results = [];
      let done = false;
      const finish = (status, message) => { if (!done) { done = true; resolve({ status, message, results }); } };
      G.GLOBAL = { isWindow: () => false, isWorker: () => true, isShadowRealm: () => false };
      const u = new URL(FILES.url);
      G.location = { href: u.href, origin: u.origin, protocol: u.protocol, host: u.host, hostname: u.hostname,
        port: u.port, pathname: u.pathname, search: u.search, hash: u.hash, toString() { return u.href; } };
      if (FILES.title) G.META_TITLE = FILES.title;
      // A worker has no base URL: relative URLs are resolved against the test's, as workerd's
      // WPT harness does too (a Request subclass, Response.redirect and fetch).
      const abs = (x) => new URL(x, u).href;
      const RealRequest = G.Request, RealResponse = G.Response, realFetch = G.fetch;
      G.Request = class Request extends RealRequest {
        constructor(input, init) {
          if (arguments.length === 0) super();
          else super(input instanceof RealRequest ? input : abs(input), init);
        }
      };
      G.Response = class Response extends RealResponse {
        static redirect(url, ...rest) { return super.redirect(abs(url), ...rest); }
      };
      // The WPT server's static files a test fetches (its JSON data); anything else goes to fetch().
      G.fetch = async function fetch(input, init) {
        const href = typeof input === "string" || input instanceof URL ? abs(input) : null;
        if (href !== null && Object.hasOwn(FILES.static, href)) {
          return new Response(FILES.static[href], { headers: { "content-type": "application/json" } });
        }
        return realFetch(href !== null ? href : input, init);
      };
      try {
        (0, eval)(FILES.harness);
        add_result_callback((t) => results.push([wf(t.name), t.status, t.message === null ? null : wf(t.message).slice(0, 300)]));
        add_completion_callback((tests, st) => finish(st.status, st.message === null ? null : wf(st.message)));
        G.importScripts = (...urls) => { for (const u of urls) if (FILES.imports[u] !== undefined) (0, eval)(FILES.imports[u]); };
        (0, eval)(FILES.body);
      } catch (e) {
        finish(1, "error while loading: " + wf(e && e.stack || e));
      }
      setTimeout(() => finish(2, "timed out"), %d);
    });
  },
};
"""


@dataclass
class Outcome:
    status: int  # the harness's: 0 ok, 1 error, 2 timeout, 3 precondition failed
    message: str | None
    results: list[tuple[str, int, str | None]] = field(default_factory=list)

    @property
    def passed(self) -> set[str]:
        return {n for n, s, _ in self.results if s == 0}

    @property
    def failed(self) -> dict[str, str]:
        return {n: f"{STATUS.get(s, s)}: {m}" for n, s, m in self.results if s != 0}


def _resolve(base: str, ref: str) -> str:
    if ref.startswith("/"):
        return ref.lstrip("/")
    parts = base.split("/")[:-1]
    for p in ref.split("/"):
        if p == "..":
            parts.pop()
        elif p != ".":
            parts.append(p)
    return "/".join(parts)


def _read(path: str) -> str:
    for root in (ENTRIES, SUITE):
        if (root / path).is_file():
            return (root / path).read_text("utf-8")
    raise FileNotFoundError(path)


def test_files() -> list[str]:
    """The test files to run, as WPT paths (ours in tests/wpt/entries, then the suite's)."""
    if not (SUITE / HARNESS).is_file():
        return []
    found = set()
    for root in (SUITE, ENTRIES):
        for p in root.rglob("*.js"):
            rel = p.relative_to(root).as_posix()
            if rel.endswith((".any.js", ".worker.js")) and "/resources/" not in rel:
                found.add(rel)
    return sorted(f for f in found if _runs_in_worker(_read(f), f))


def _runs_in_worker(text: str, path: str) -> bool:
    if path.endswith(".worker.js"):
        return True
    kinds = [v.strip() for k, v in META.findall(text) if k == "global"]
    if not kinds:
        return True  # .any.js files run in a window and a dedicated worker by default
    return any(g.strip() in WORKER_GLOBALS for k in kinds for g in k.split(","))


def _scripts(path: str, text: str, sources: dict[str, str], order: list[str], imports: dict[str, str]) -> None:
    for k, v in META.findall(text):
        if k == "script":
            dep = _resolve(path, v.strip())
            if dep not in sources:
                sources[dep] = _read(dep)
                _scripts(dep, sources[dep], sources, order, imports)
            order.append(dep)
    for ref in IMPORT.findall(text):
        dep = _resolve(path, ref)
        imports[ref] = dep
        if dep not in sources:
            sources[dep] = _read(dep)


def run_file(path: str) -> Outcome:
    """Run one test file in a fresh isolate."""
    text = _read(path)
    sources = {HARNESS: _read(HARNESS), path: text}
    order: list[str] = []
    imports: dict[str, str] = {}
    _scripts(path, text, sources, order, imports)
    order.append(path)
    titles = [v.strip() for k, v in META.findall(text) if k == "title"]
    base = "http://web-platform.test:8000/"
    static = {}
    for name in order:
        for ref in STATIC.findall(sources[name]):
            dep = _resolve(name, ref)
            if (SUITE / dep).is_file():
                static[base + dep] = (SUITE / dep).read_text("utf-8")
    files = {
        "harness": sources[HARNESS],
        "body": "\n;\n".join(sources[name] for name in order),
        "imports": {ref: sources[dep] for ref, dep in imports.items() if dep != HARNESS},
        "url": base + path.replace(".any.js", ".any.worker.js"),
        "static": static,
        "title": titles[0] if titles else None,
    }
    source = RUNNER % (json.dumps(files), FILE_MS)
    limits = Limits(cpu_ms=60_000, wall_ms=FILE_MS + 10_000, memory_mb=256, max_log_bytes=1 << 16)
    r = run_once(Script.from_source(source, path.rsplit("/", 1)[-1]), "task", None, limits)
    if not r.ok:
        assert r.error is not None
        return Outcome(1, f"{r.error.code}: {r.error.message}")
    v = r.value
    # Subtest names are not always unique (a loop over cases, or class names in the name):
    # the second one of a name is "name #2", and so on, in the order they finished.
    seen: dict[str, int] = {}
    results = []
    for n, st, m in v["results"]:
        seen[n] = seen.get(n, 0) + 1
        results.append((n if seen[n] == 1 else f"{n} #{seen[n]}", st, m))
    return Outcome(v["status"], v["message"], results)


def load_expectations() -> dict[str, dict]:
    return json.loads(EXPECTATIONS.read_text()) if EXPECTATIONS.is_file() else {}


def compare(path: str, out: Outcome, expected: dict) -> list[str]:
    """What differs from the expectations: regressions and unexpected passes."""
    problems = []
    known = expected.get("fail", {})
    if "all_fail" in expected:  # every subtest of the file fails, for one reason
        known = {name: expected["all_fail"] for name, _, _ in out.results}
    total = expected.get("total", 0)
    if len(out.results) < total:
        problems.append(f"{len(out.results)} subtests ran, {total} expected (harness: {out.status} {out.message})")
    for name, why in sorted(out.failed.items()):
        if name not in known:
            problems.append(f"regression: {name!r}: {why}")
    for name in sorted(out.passed & set(known)):
        problems.append(f"unexpected pass (remove it from tests/wpt/expectations.json): {name!r}")
    return problems


# Why a subtest fails, by the first pattern that matches "path :: subtest name".
OTHERS = "handled in another part of issue 15: "
REASONS: list[tuple[str, str]] = [
    (r"WebAssembly|SharedArrayBuffer", "no WebAssembly, so no shared memory for /common/sab.js"),
    (
        r"TextDecoder: only utf-8|utf-16|encoding/textdecoder-labels|encoding/textdecoder-fatal-single-byte",
        OTHERS + "TextDecoder encodings and labels",
    ),
    (r'expected "\w+" but got "\w{1,2}"|\.name', OTHERS + "class names kept in the bundle (keepNames)"),
    (
        r"isTrusted|should be trusted",
        "Event.isTrusted is false for every event a worker sees (js/src/events.js), the runtime's abort events too",
    ),
    (r"^[^:]+ :: [A-Za-z_$]{1,2}: ", OTHERS + "class names kept in the bundle (keepNames): the name is the class's"),
    (r"CompressionStream", OTHERS + "CompressionStream"),
    (r"\.stack", OTHERS + "error.stack"),
    (r"FileReader", "no FileReader (workerd has none either)"),
    (r"document is not defined|XMLHttpRequest", "needs a window (document, XMLHttpRequest)"),
    (r"Invalid URL: \S*(resources/|\.py|\?)", "needs the WPT server: fetch() of a same-origin test resource"),
    (r"Invalid URL|relative", "a relative URL the harness could not resolve for it"),
    (r"request-cache|request-bad-port|priority|keepalive", "needs the WPT server or browser-only Request options"),
    (r"no-cors", "a browser-only Request mode (no-cors): workers have no CORS, workerd neither"),
    (r"Set-Cookie is a forbidden response header", "a worker reads and sets Set-Cookie, as in workerd"),
    (r"MessageChannel|MessagePort", "no MessageChannel"),
    (
        r"Object\.prototype\.then",
        "web-streams-polyfill resolves read() with plain objects, which a patched Object.prototype.then intercepts",
    ),
    (r"onload is not defined|realm", "needs a window (iframes, realms)"),
    (r"fetch\(\) is not enabled", "needs the WPT server: fetch() of a same-origin test resource"),
    (
        r"Adding invalid request header|filtering headers",
        "forbidden request headers: a worker may set any header, as in workerd",
    ),
    (
        r"Bad (cache|credentials|mode|referrerPolicy) init|mode is navigate|referrer is invalid|window is not null|only-if-cached",
        "RequestInit members a worker has no use for (mode, credentials, cache, referrer, window) are not checked, as in workerd",
    ),
    (
        r"request has \w+ attribute",
        "a browser-only Request attribute (mode, credentials, cache, referrer...): workerd has none either",
    ),
    (r"duplex", "RequestInit.duplex is not checked (workerd neither)"),
    (
        r"request-disturbed",
        "a Request made from a Request takes over its body stream, not a proxy of it (workerd fails these too)",
    ),
    (
        r"^streams/",
        "web-streams-polyfill 4.3.0 (owning-type streams and MessagePort transfer are not in it; the transform-stream and queuing-strategy tests are a 2020 copy, since changed upstream)",
    ),
    (r"garbage-collection|\bgc\b", "no way to force a garbage collection from a test"),
]


def reason_for(path: str, name: str, why: str) -> str:
    key = f"{path} :: {name} :: {why}"
    for pattern, reason in REASONS:
        if re.search(pattern, key):
            return reason
    return "open (not analysed yet): " + why[:200]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--update", action="store_true", help="rewrite tests/wpt/expectations.json from this run")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each failing subtest")
    ap.add_argument("files", nargs="*", help="WPT paths (default: all)")
    opts = ap.parse_args()
    files = opts.files or test_files()
    if not files:
        print("no WPT files: run scripts/wpt-refresh first", file=sys.stderr)
        return 1
    old = load_expectations()
    new = dict(old) if opts.files else {}
    folders: dict[str, list[int]] = {}
    passed = total = 0
    for f in files:
        out = run_file(f)
        n, p = len(out.results), len(out.passed)
        passed, total = passed + p, total + n
        c = folders.setdefault(f.rsplit("/", 1)[0], [0, 0])
        c[0], c[1] = c[0] + p, c[1] + n
        first = (out.message or "").split("\n", 1)[0]
        print(f"{p:5}/{n:<5} {f}" + (f"  [harness {out.status}: {first}]" if out.status else ""), flush=True)
        if opts.verbose:
            for name, why in sorted(out.failed.items()):
                print(f"      {name!r}: {why.splitlines()[0] if why else why}")
        before = old.get(f, {})
        prev = before.get("fail", {})
        fails = {
            name: prev.get(name) or before.get("all_fail") or reason_for(f, name, why)
            for name, why in out.failed.items()
        }
        reasons = set(fails.values())
        if n > 20 and len(fails) == n and len(reasons) == 1:
            new[f] = {"total": n, "all_fail": reasons.pop()}
        else:
            new[f] = {"total": n, "fail": dict(sorted(fails.items()))}
    for folder, (p, n) in sorted(folders.items()):
        print(f"{folder}: {p}/{n}")
    print(f"total: {passed}/{total} subtests pass ({100 * passed / max(total, 1):.1f} %) in {len(files)} files")
    if opts.update:
        EXPECTATIONS.write_text(json.dumps(dict(sorted(new.items())), indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
