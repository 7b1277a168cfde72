"""The module loader of a worker's isolate: imports resolve to the worker's own files only.

The engine extension normalises each specifier against the importing module (modules are
named by their path under the worker's folder; the entry is "<input>") and refuses, with
E_IMPORT and both names in the message, absolute paths, URL specifiers (`file:`, `https:`),
bare specifiers and paths that climb out of the folder. What is left comes here: a name the
Script holds becomes that module's bytecode (MODULES, compiled once per source), any other
name fails. Import cycles are allowed, as ES modules define them (a binding read before its
module has run is the engine's ReferenceError, naming the file and line).

A module that does not compile is handed to the engine as source, so the SyntaxError is the
engine's own with that module's file:line:column (and a limit hit while compiling is the
engine's limit).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from shardrun.engine.adapter import EngineError, Isolate
from shardrun.engine.bytecode import MODULES
from shardrun.errors import ScriptError
from shardrun.runtime.script import ENTRY, Script

ENTRY_NAME = "<input>"  # the entry module's name in the engine (messages say script.name)

Loader = Callable[[str, str], "str | bytes | None"]


def module_loader(script: Script, iso: Isolate) -> Loader:
    """The loader that `iso` calls with (module name, importer name) for each new import."""
    ref = weakref.ref(iso)
    modules = script.modules

    def load(name: str, base: str) -> str | bytes | None:
        if modules is None:
            raise ScriptError(
                f"cannot import '{name}' from '{base}': a single-file worker has no other modules "
                f"(make it a folder, <name>/{ENTRY}, to import files next to it)",
                code="E_IMPORT",
            )
        if name == ENTRY:
            raise ScriptError(
                f"cannot import '{name}' from '{base}': that is the worker's entry module "
                "(move what both need into a module of its own)",
                code="E_IMPORT",
            )
        source = modules.get(name)
        if source is None:
            return None  # the engine's "there is no module" error, with the specifier
        if isinstance(source, ScriptError):
            raise ScriptError(f"cannot import '{name}' from '{base}': {source.message}", code=source.code)
        owner = ref()
        if owner is None:  # pragma: no cover - the engine calls it only while the isolate exists
            return None
        try:
            return MODULES.get(owner, source, name)
        except EngineError:  # a SyntaxError (or a limit): the engine meets it again, in its own terms
            return source

    return load
