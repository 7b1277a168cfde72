"""shardrun.engine._quickjs, the engine extension: the module loader and bytecode (the rest: test_native_engine.py)."""

from __future__ import annotations

import pytest

from shardrun.engine import _quickjs as qjs


def iso(**kw) -> qjs.Isolate:
    return qjs.Isolate(memory_limit=kw.pop("memory_limit", 64 << 20), **kw)


# ---- modules ----------------------------------------------------------------------------


def _modules(files: dict[str, str], main: str = "main.js", **kw) -> tuple[qjs.Isolate, list[tuple[str, str]]]:
    i = iso()
    asked: list[tuple[str, str]] = []

    def loader(name: str, base: str) -> str | bytes | None:
        asked.append((name, base))
        return files.get(name)

    i.set_module_loader(loader, **kw)
    i.eval_module(files[main], main)
    i.run_jobs()
    return i, asked


def test_relative_imports_are_normalised_against_the_importer():
    files = {
        "main.js": "import { x } from './lib/a.js'; globalThis.r = x + (await import('./lib/c.js')).z",
        "lib/a.js": "export { y as x } from '../b.js'",
        "b.js": "export const y = 40",
        "lib/c.js": "export const z = 2",
    }
    i, asked = _modules(files)
    assert i.get_global("r") == 42
    assert asked == [("lib/a.js", "main.js"), ("b.js", "lib/a.js"), ("lib/c.js", "main.js")]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("import './missing.js'", "cannot import './missing.js' from 'main.js': there is no module 'missing.js'"),
        ("import '/etc/passwd'", "cannot import '/etc/passwd' from 'main.js': absolute import paths are not allowed"),
        ("import 'lodash'", "cannot import 'lodash' from 'main.js': bare module specifiers are not allowed"),
        ("import '../up.js'", "cannot import '../up.js' from 'main.js': the path leaves the worker's directory"),
        ("import './a.js'", "import cycle: b.js -> main.js -> a.js -> b.js"),
        ("import 'file:///etc/passwd'", "cannot import 'file:///etc/passwd' from 'main.js': URL specifiers are not"),
        ("import 'data:text/javascript,1'", "'data:text/javascript,1' from 'main.js': URL specifiers are not allowed"),
    ],
)
def test_bad_imports_fail_with_a_clear_error(source, message):
    files = {"main.js": source, "a.js": "import './b.js'", "b.js": "import './main.js'"}
    with pytest.raises(qjs.JSError) as e:
        _modules(files)
    assert message in e.value.message and e.value.code == "E_IMPORT"


def test_a_loader_exception_with_a_code_is_the_imports_error_in_its_own_words():
    class Refused(Exception):
        code = "E_IMPORT"

    def loader(name, base):
        raise Refused(f"cannot import '{name}' from '{base}': not today")

    i = iso()
    i.set_module_loader(loader)
    with pytest.raises(qjs.JSError) as e:
        i.eval_module("import './x.js'", "main.js")
    assert (e.value.code, e.value.message) == ("E_IMPORT", "cannot import 'x.js' from 'main.js': not today")


def test_bare_specifiers_named_by_the_host_and_cycles_when_allowed():
    i, asked = _modules(
        {"main.js": "import { v } from 'shardrun:kv'; globalThis.r = v", "shardrun:kv": "export const v = 1"},
        bare=["shardrun:kv"],
    )
    assert i.get_global("r") == 1 and asked == [("shardrun:kv", "main.js")]
    i, _ = _modules(
        {
            "main.js": "import { b } from './b.js'; export const a = 1; globalThis.r = b",
            "b.js": "import { a } from './main.js'; export const b = 2",
        },
        allow_cycles=True,
    )
    assert i.get_global("r") == 2


def test_a_syntax_error_in_an_imported_module_names_its_file_line_and_column():
    with pytest.raises(qjs.JSError) as e:
        _modules({"main.js": "import { x } from './lib.js'", "lib.js": "export const x = 1;\nlet = = 2;"})
    assert e.value.name == "SyntaxError" and "lib.js:2:5" in e.value.stack


def test_a_raising_loader_is_a_js_error_with_a_code():
    i = iso()

    def loader(name, base):
        raise OSError("disk on fire")

    i.set_module_loader(loader)
    with pytest.raises(qjs.JSError) as e:
        i.eval_module("import './x.js'", "main.js")
    assert e.value.code == "E_INTERNAL" and "module loader for 'x.js' failed (OSError)" in e.value.message
    assert isinstance(i.host_error, OSError)


def test_a_module_top_level_throw_raises_and_is_no_unhandled_rejection():
    i = iso()
    with pytest.raises(qjs.JSError) as e:
        i.eval_module("throw new Error('top')", "main.js")
    assert e.value.message == "top" and "main.js:1:" in e.value.stack
    assert i.take_rejections() == []


# ---- bytecode ---------------------------------------------------------------------------


def test_bytecode_round_trips_scripts_and_modules():
    compiler = iso()
    compiler.set_module_loader(lambda name, base: "export const y = 2")
    script = compiler.compile("globalThis.s = 40; s + 1", "s.js")
    main = compiler.compile("import { y } from './y.js'; globalThis.m = s + y", "main.js", module=True)
    lib = compiler.compile("export const y = 2", "y.js", module=True)
    assert script.startswith(b"SHRDQJS1") and qjs.ENGINE_BUILD.encode() in script[: qjs.BYTECODE_HEADER_SIZE]
    i = iso()
    i.set_module_loader(lambda name, base: {"y.js": lib}.get(name))
    assert i.load(script) == 41
    assert i.load(main).promise_state() == "fulfilled" and i.get_global("m") == 42
    stripped = compiler.compile("function f() { return 1 }", "f.js", strip_source=True)
    assert len(stripped) < len(compiler.compile("function f() { return 1 }", "f.js"))


def _tamper(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


def test_tampered_truncated_and_foreign_bytecode_is_refused():
    i = iso()
    good = i.compile("1 + 1", "x.js")
    hdr = qjs.BYTECODE_HEADER_SIZE
    foreign_build = good[:12] + b"0" * 64 + good[76:]
    cases = {
        "its sha256 does not match": _tamper(good, len(good) - 3),
        "truncated bytecode": good[:-5],
        "another engine build": foreign_build,
        "not shardrun bytecode": good[hdr:],  # the engine's own format, no header
        "not shardrun bytecode ": b"",
    }
    for message, data in cases.items():
        with pytest.raises(qjs.BytecodeError, match=message.strip()):
            i.load(data)
        with pytest.raises(qjs.BytecodeError, match=message.strip()):
            qjs.check_bytecode(data)
    assert qjs.check_bytecode(good) == "script"
    assert qjs.check_bytecode(i.compile("export {}", "m.js", module=True)) == "module"
    mod = i.compile("export const v = 1", "v.js", module=True)
    i.set_module_loader(lambda name, base: good)  # a script where a module is wanted
    with pytest.raises(qjs.JSError, match="a script's bytecode, not a module's"):
        i.eval_module("import './v.js'", "main.js")
    j = iso()
    j.set_module_loader(lambda name, base: mod)
    with pytest.raises(qjs.JSError, match=r"bytecode of module 'v\.js'"):
        j.eval_module("import './w.js'", "main.js")
    assert i.load(good) == 2


def test_a_verified_object_still_refuses_a_tampered_copy():
    i = iso()
    good = i.compile("6 * 7", "x.js")
    assert i.load(good) == 42 and i.load(good) == 42  # the second load skips the hash
    with pytest.raises(qjs.BytecodeError, match="its sha256 does not match"):
        i.load(_tamper(good, len(good) - 2))
    assert iso().load(bytes(bytearray(good))) == 42  # an equal copy is the same content


def test_stripped_bytecode_hides_source_and_file_but_keeps_names():
    i = iso()
    code = i.compile(
        "(function outer() { return function inner() { throw new Error('x') } })",
        "lib.js",
        strip_source=True,
        strip_debug=True,
    )
    assert len(code) < len(
        i.compile(
            "(function outer() { return function inner() { throw new Error('x') } })", "lib.js", strip_source=True
        )
    )
    j = iso()
    j.set_global("inner", j.load(code)())
    got = j.eval("""
      Error.prepareStackTrace = (e, sites) => sites.map((s) => [s.getFileName(), s.getFunctionName(), s.isNative()]);
      let frames; try { inner() } catch (e) { frames = e.stack }
      JSON.stringify([frames[0], inner.name, String(inner)])""")
    assert got == '[["","inner",false],"inner","function inner() {\\n    [native code]\\n}"]'


def test_the_chunk_loader_runs_script_bytecode_by_index():
    c = iso()
    codes = (c.compile("(x) => x + 1", "a.js"), c.compile("'b'", "b.js"))
    i = iso()
    load = i.chunk_loader("loadChunk", codes)
    i.set_global("loadChunk", load)
    assert i.eval("loadChunk(0)(41) + loadChunk(1)") == "42b"
    with pytest.raises(qjs.JSError, match="there is no chunk 2"):
        i.eval("loadChunk(2)")
    with pytest.raises(qjs.JSError, match="there is no chunk -1"):
        i.eval("loadChunk(-1)")
    with pytest.raises(RuntimeError, match="has a chunk loader already"):
        i.chunk_loader("again", codes)
    j = iso()
    with pytest.raises(qjs.BytecodeError, match="chunk 1 is a module's bytecode"):
        j.chunk_loader("l", (codes[0], c.compile("export const v = 1", "v.js", module=True)))
    with pytest.raises(qjs.BytecodeError, match="its sha256 does not match"):
        j.chunk_loader("l", (_tamper(codes[0], len(codes[0]) - 2),))
    with pytest.raises(TypeError, match="takes bytes"):
        j.chunk_loader("l", ("(x) => x",))
    assert j.chunk_loader("l", codes).type == "function"  # nothing was kept from the refused calls


def test_the_gc_threshold_is_validated_and_collection_still_runs():
    i = iso()
    with pytest.raises(ValueError, match="must be > 0"):
        i.set_gc_threshold(0)
    i.set_gc_threshold(64 << 10)
    i.eval("for (let n = 0; n < 100000; n++) { const a = {}, b = { a }; a.b = b }")  # cycles only the collector frees
    assert i.memory()["memory_used_size"] < 4 << 20


def test_a_bytes_subclass_claiming_equality_is_hashed_not_trusted():
    class Liar(bytes):
        def __eq__(self, other: object) -> bool:
            return True

        def __hash__(self) -> int:
            return hash(good)

    i = iso()
    good = i.compile("1", "x.js")
    assert i.load(good) == 1
    with pytest.raises(qjs.BytecodeError, match="its sha256 does not match"):
        i.load(Liar(_tamper(good, len(good) - 1)))
