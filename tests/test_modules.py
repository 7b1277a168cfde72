"""Multi-file workers: a folder's modules import each other; everything else fails with E_IMPORT."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from shardrun.errors import ScriptError, UsageError
from shardrun.runtime import script as script_mod
from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script
from shardrun.workers import Registry

TASK = "export default { task() { return 1 } }"


def folder(root: Path, files: dict[str, str | bytes], name: str = "w") -> Path:
    d = root / name
    for rel, body in files.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_bytes(body if isinstance(body, bytes) else body.encode())
    return d


def run(root: Path, files: dict[str, str | bytes], arg=None):
    w = WorkerIsolate(Script.from_dir(folder(root, files), "w"))
    call = w.submit("task", arg)
    assert call.result is not None
    return call.result


def load_error(root: Path, files: dict[str, str | bytes]) -> ScriptError:
    with pytest.raises(ScriptError) as e:
        WorkerIsolate(Script.from_dir(folder(root, files), "w"))
    return e.value


# ---- what works -----------------------------------------------------------------------


def test_nested_folders_re_exports_and_dynamic_import(tmp_path):
    r = run(
        tmp_path,
        {
            "index.js": "import { area, PI } from './geo/index.js';\n"
            "export default { async task(p) { const { twice } = await import('./geo/deep/twice.mjs');"
            " return [area(p), twice(PI)] } }",
            "geo/index.js": "export { area } from './circle.js'; export * from '../consts.js';",
            "geo/circle.js": "import { PI } from '../consts.js'; export const area = (r) => PI * r * r;",
            "geo/deep/twice.mjs": "export const twice = (x) => 2 * x;",
            "consts.js": "export const PI = 3;",
        },
        2,
    )
    assert r.ok and r.value == [12, 6]


def test_a_shared_module_imported_twice_evaluates_once(tmp_path):
    r = run(
        tmp_path,
        {
            "index.js": "import { a } from './a.js'; import { b } from './sub/b.js'; import { n } from './shared.js';\n"
            "export default { task() { return [a, b, n, globalThis.evaluated] } }",
            "a.js": "import { n } from './shared.js'; export const a = n;",
            "sub/b.js": "import { n } from '../shared.js'; export const b = n;",
            "shared.js": "globalThis.evaluated = (globalThis.evaluated ?? 0) + 1; export const n = 7;",
        },
    )
    assert r.ok and r.value == [7, 7, 7, 1]


def test_import_cycles_are_allowed_as_es_modules_define_them(tmp_path):
    # Policy: cycles work (functions are hoisted across the cycle) ...
    r = run(
        tmp_path,
        {
            "index.js": "import { even } from './even.js'; export default { task() { return [even(10), even(7)] } }",
            "even.js": "import { odd } from './odd.js'; export function even(n) { return n === 0 || odd(n - 1) }",
            "odd.js": "import { even } from './even.js'; export function odd(n) { return n !== 0 && even(n - 1) }",
        },
    )
    assert r.ok and r.value == [True, False]
    # ... and a binding read before its module ran is the engine's ReferenceError, naming where.
    err = load_error(
        tmp_path / "tdz",
        {
            "index.js": "import { a } from './a.js';" + TASK,
            "a.js": "import { b } from './b.js'; export const a = 1;",
            "b.js": "import { a } from './a.js';\nexport const b = a + 1;",
        },
    )
    assert err.code == "E_SCRIPT" and "ReferenceError: a is not initialized" in err.message
    assert "b.js:2:" in err.stack


# ---- what fails, and how ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"index.js": "import './nope.js';" + TASK}, "cannot import './nope.js' from 'w/index.js': there is no module"),
        (
            {"index.js": "import './sub/a.js';" + TASK, "sub/a.js": "import '../../outside.js'"},
            "cannot import '../../outside.js' from 'sub/a.js': the path leaves the worker's directory",
        ),
        ({"index.js": "import '../w2/x.js';" + TASK}, "from 'w/index.js': the path leaves the worker's directory"),
        ({"index.js": "import '/etc/passwd';" + TASK}, "'/etc/passwd' from 'w/index.js': absolute import paths"),
        ({"index.js": "import 'file:///etc/passwd';" + TASK}, "'file:///etc/passwd' from 'w/index.js': URL specifiers"),
        ({"index.js": "import 'https://x.example/m.js';" + TASK}, "'https://x.example/m.js' from 'w/index.js': URL"),
        ({"index.js": "import 'lodash';" + TASK}, "cannot import 'lodash' from 'w/index.js': bare module specifiers"),
        ({"index.js": "import './a.js';" + TASK, "a.js": "import './index.js'"}, "'index.js' from 'a.js': that is"),
        (
            {"index.js": "import './a.js';" + TASK, "a.js": b"export const s = '\xff';"},
            "cannot import 'a.js' from 'w/index.js': w/a.js is not valid UTF-8: byte 0xff at 1:",
        ),
    ],
)
def test_a_bad_import_fails_the_load_with_e_import_naming_specifier_and_importer(tmp_path, files, message):
    (tmp_path / "outside.js").write_text("export const x = 1")
    folder(tmp_path, {"x.js": "export const x = 1"}, "w2")
    err = load_error(tmp_path, files)
    assert err.code == ("E_SCRIPT_ENCODING" if "UTF-8" in message else "E_IMPORT")
    assert message in err.message


def test_a_bad_dynamic_import_is_a_catchable_error_with_a_code(tmp_path):
    r = run(
        tmp_path,
        {
            "index.js": "export default { async task() { const out = [];"
            " for (const s of ['./nope.js', 'lodash', '../x.js', 'file:/x']) {"
            " try { await import(s) } catch (e) { out.push(e.code) } } return out } }"
        },
    )
    assert r.ok and r.value == ["E_IMPORT"] * 4


def test_a_syntax_error_in_an_imported_module_names_its_file_line_and_column(tmp_path):
    err = load_error(
        tmp_path,
        {"index.js": "import { x } from './lib/x.js';" + TASK, "lib/x.js": "export const x = 1;\n  let = = 2;\n"},
    )
    assert err.code == "E_COMPILE" and "(at lib/x.js:2:7)" in err.message


def test_a_symlink_out_of_the_folder_is_refused_and_never_read(tmp_path):
    secret = tmp_path / "secret.js"
    secret.write_text("export const s = 'the secret'")
    d = folder(tmp_path, {"index.js": "import { s } from './link.js';" + TASK})
    os.symlink(secret, d / "link.js")
    script = Script.from_dir(d, "w")
    assert "the secret" not in str(script.modules)
    with pytest.raises(ScriptError) as e:
        WorkerIsolate(script)
    err = e.value
    assert err.code == "E_IMPORT" and "w/link.js is a symlink that leads out of the worker's folder" in err.message
    # a symlink to another file inside the folder is that file
    os.remove(d / "link.js")
    (d / "real.js").write_text("export const s = 'inside'")
    os.symlink(d / "real.js", d / "link.js")
    assert WorkerIsolate(Script.from_dir(d, "w")).submit("task", None).result.ok


def test_a_single_file_worker_imports_nothing(tmp_path):
    (tmp_path / "lib.js").write_text("export const x = 1")
    (tmp_path / "one.js").write_text("import { x } from './lib.js';" + TASK)
    with pytest.raises(ScriptError) as e:
        WorkerIsolate(Script.from_path(tmp_path / "one.js"))
    assert e.value.code == "E_IMPORT" and "a single-file worker has no other modules" in e.value.message


def test_caps_on_the_module_files(tmp_path, monkeypatch):
    monkeypatch.setattr(script_mod, "MAX_MODULES", 3)
    d = folder(tmp_path, {"index.js": TASK, **{f"m{i}.js": "" for i in range(4)}})
    with pytest.raises(ScriptError, match="more than 3 module files"):
        Script.from_dir(d, "w")
    monkeypatch.setattr(script_mod, "MAX_SCRIPT_BYTES", 100)
    d = folder(tmp_path, {"index.js": TASK, "a.js": "x" * 80}, "w3")
    with pytest.raises(ScriptError, match="over the limit of 100 bytes in all") as e:
        Script.from_dir(d, "w3")
    assert e.value.code == "E_SCRIPT_ENCODING"
    with pytest.raises(UsageError, match=r"has no index\.js"):
        Script.from_path(tmp_path)


def test_dot_folders_and_node_modules_are_not_read(tmp_path):
    d = folder(
        tmp_path, {"index.js": TASK, ".git/x.js": "", "node_modules/y/index.js": "", "notes.txt": "", "a.mjs": ""}
    )
    assert list(Script.from_dir(d, "w").modules or {}) == ["a.mjs"]


# ---- versions: an edit of any module is a new version ------------------------------------


def test_the_version_covers_every_module_file(tmp_path):
    d = folder(tmp_path, {"index.js": "import { v } from './lib.js'; export default { task() { return v } }"})
    (d / "lib.js").write_text("export const v = 1")
    v1 = Script.from_dir(d, "w").version
    assert Script.from_dir(d, "w").version == v1
    (d / "README.md").write_text("not a module")
    assert Script.from_dir(d, "w").version == v1
    (d / "lib.js").write_text("export const v = 2")
    v2 = Script.from_dir(d, "w").version
    (d / "sub").mkdir()
    (d / "sub" / "new.js").write_text("")
    assert len({v1, v2, Script.from_dir(d, "w").version}) == 3


def test_an_edit_of_an_imported_file_takes_effect_on_the_next_request_of_the_registry(tmp_path):
    d = folder(
        tmp_path,
        {
            "index.js": "import { v } from './lib/v.js'; export default { task() { return v } }",
            "lib/v.js": "export const v = 1",
        },
    )
    lib = d / "lib" / "v.js"
    reg = Registry(tmp_path)

    def answer():
        spec = reg.get("w")
        return spec.version, WorkerIsolate(spec.script, spec.limits).submit("task", None).result.value

    v1, a1 = answer()
    assert reg.get("w") is reg.get("w")  # unchanged files: the cached spec
    time.sleep(0.01)
    lib.write_text("export const v = 2")
    v2, a2 = answer()
    assert (a1, a2) == (1, 2) and v1 != v2
    (tmp_path / "w" / "lib" / "extra.js").write_text("export const e = 3")  # a new file: re-read too
    assert "lib/extra.js" in (reg.get("w").script.modules or {})
