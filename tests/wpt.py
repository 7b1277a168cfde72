"""Run the WPT URL data (tests/data/wpt) inside an isolate and count passes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from shardrun.cli.oneshot import run_once
from shardrun.engine.limits import Limits
from shardrun.runtime.script import Script

DATA = Path(__file__).parent / "data" / "wpt"

HARNESS = r"""
const PROPS = ["href", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash", "origin"];
function parsing(tests) {
  const failed = [];
  let passed = 0;
  for (const t of tests) {
    if (typeof t === "string") continue;
    let ok;
    try {
      const base = t.base === null || t.base === undefined ? undefined : t.base;
      if (t.failure) {
        try { new URL(t.input, base); ok = false; } catch (e) { ok = e instanceof TypeError; }
      } else {
        const u = new URL(t.input, base);
        ok = PROPS.every((k) => !(k in t) || u[k] === t[k]);
        if (ok && "searchParams" in t) ok = u.searchParams.toString() === t.searchParams;
      }
    } catch (e) { ok = false; }
    if (ok) passed++; else failed.push(t.input);
  }
  return { passed, failed };
}
function setters(groups) {
  const failed = [];
  let passed = 0;
  for (const [attr, tests] of Object.entries(groups)) {
    if (attr === "comment") continue;
    for (const t of tests) {
      let ok;
      try {
        const u = new URL(t.href);
        u[attr] = t.new_value;
        ok = Object.entries(t.expected).every(([k, v]) => u[k] === v);
      } catch (e) { ok = false; }
      if (ok) passed++; else failed.push(attr + ": " + t.href + " <- " + t.new_value);
    }
  }
  return { passed, failed };
}
export default { task(p) { return { parsing: parsing(p.parsing), setters: setters(p.setters) } } };
"""


def run() -> dict[str, Any]:
    """Pass counts and failures for the parsing and setter tests."""
    # The data holds lone surrogates, which Python's JSON tools refuse to re-encode:
    # hand the files' text to JS as it is (orjson.Fragment).
    parsing_text = (DATA / "urltestdata.json").read_bytes()
    setters_text = (DATA / "setters_tests.json").read_bytes()
    data = {"parsing": orjson.Fragment(parsing_text), "setters": orjson.Fragment(setters_text)}
    r = run_once(Script.from_source(HARNESS, "wpt.js"), "task", data, Limits(cpu_ms=30_000, wall_ms=60_000))
    assert r.ok, r.error
    out = r.value
    out["parsing"]["total"] = sum(isinstance(t, dict) for t in json.loads(parsing_text))
    out["setters"]["total"] = sum(len(v) for k, v in json.loads(setters_text).items() if k != "comment")
    return out
