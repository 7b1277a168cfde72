"""Random JS programs built from risky pieces, under limits: the engine never crashes, every
program ends with a value or a defined error code."""

from __future__ import annotations

import subprocess
import sys

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import ROOT

ATOMS = [
    "0",
    "-0",
    "1e308",
    "NaN",
    "Infinity",
    "''",
    "'\\ud800'",
    "'\\0'",
    "[]",
    "{}",
    "null",
    "undefined",
    "10n",
    "Symbol('s')",
    "new Proxy({}, { get() { throw new Error('trap'); } })",
    "new Uint8Array(1e5)",
    "'x'.repeat(1e5)",
    "new Array(1e6)",
    "/(a+)+$/",
    "new Date(NaN)",
    "Object.create(null)",
    "new ArrayBuffer(16)",
    "function f() { return f(); }",
    "[[[[[[]]]]]]",
    "{ get x() { throw 1; } }",
    "{ [Symbol.toPrimitive]() { throw new TypeError('no'); } }",
    "new Map([[1, 2]])",
    "new WeakRef({})",
    "Promise.reject(new Error('r'))",
    "new Error('e')",
    "globalThis",
    "Math",
    "JSON",
    "Atomics",
    "new SharedArrayBuffer(8)",
    "new DataView(new ArrayBuffer(4))",
    "new Headers({ a: 'b' })",
    "new URL('https://a.test/p?q#h')",
    "new Response('body')",
    "new TextEncoder()",
    "crypto",
]
UNARY = [
    "String({})",
    "JSON.stringify({})",
    "JSON.parse(JSON.stringify({}) ?? 'null')",
    "Object.keys(Object({}))",
    "structuredClone({})",
    "new URL(String({}), 'https://x.test/')",
    "[{}].flat(Infinity)",
    "Array.from({})",
    "Reflect.ownKeys(Object({}))",
    "new TextEncoder().encode(String({}))",
    "btoa(String({}).slice(0, 100))",
    "atob(String({}))",
    "({}).toString()",
    "Number({})",
    "BigInt({})",
    "[...String({})].reverse().join('')",
    "new Uint8Array({})",
    "Object.freeze({})",
    "typeof {}",
    "({}) instanceof Object",
    "Object.getPrototypeOf({})",
    "Array.prototype.sort.call({}, () => 0)",
    "String({}).normalize('NFKC')",
    "encodeURIComponent(String({}))",
    "decodeURIComponent(String({}))",
    "new Function('return ' + String(JSON.stringify({})))()",
    "eval('(' + 1 + ')')",
    "(async () => { await null; return {}; })()",
    "Promise.all([{}])",
    "new Blob([String({})])",
]
BINARY = [
    "{} + {}",
    "{} === {}",
    "[{}, {}].sort()",
    "Object.assign({}, Object({}))",
    "{} ?? {}",
    "({}) in Object({})",
    "Array({}.length | 0).fill({})",
    "String({}).split(String({}))",
    "{}.concat?.({})",
]

leaf = st.sampled_from(ATOMS).map(lambda a: f"({a})")
expr = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(UNARY), inner).map(lambda t: "(" + t[0].replace("{}", t[1], 1) + ")"),
        st.tuples(st.sampled_from(BINARY), inner, inner).map(
            lambda t: "(" + t[0].replace("{}", t[1], 1).replace("{}", t[2], 1) + ")"
        ),
    ),
    max_leaves=6,
)
program = st.tuples(expr, st.booleans()).map(
    lambda t: (
        (f"const top = (() => {{ try {{ return {t[0]}; }} catch (e) {{ return e; }} }})();\n" if t[1] else "")
        + "export default { async task() {\n"
        f"  try {{ const v = await {t[0]}; return [typeof v, String(v).slice(0, 50)]; }}\n"
        "  catch (e) { return ['threw', String(e && e.name)]; }\n} };"
    )
)

DEFINED = {
    "ok",
    "E_CPU_LIMIT",
    "E_WALL_TIMEOUT",
    "E_OOM",
    "E_STACK",
    "E_SCRIPT",
    "E_BAD_OUTPUT",
    "E_COMPILE",
    "E_NEVER_RESPONDS",
    "E_RESPONSE_TOO_LARGE",
}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(program, min_size=20, max_size=40))
def test_random_programs_never_crash_the_engine(programs: list[str]) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "tests.fuzz_child"],
        check=False,
        input=orjson.dumps(programs),
        capture_output=True,
        cwd=ROOT,
        timeout=120,
    )
    last = p.stderr.decode(errors="replace").strip().splitlines()[-1:] if p.returncode else []
    assert p.returncode == 0, (
        f"the engine process died ({p.returncode}) at {last}: {programs[int(last[0].split()[1])] if last and last[0].startswith('program ') else ''}"
    )
    out = orjson.loads(p.stdout)
    assert out["ran"] == len(programs) and set(out["codes"]) <= DEFINED, out
