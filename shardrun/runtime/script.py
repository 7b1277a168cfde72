"""Worker scripts as the runtime takes them: a name, UTF-8 source, the modules it may import
and one code version over all of it.

A script is one file (`Script.from_path`, `DIR/<name>.js`) or a folder (`Script.from_dir`,
`DIR/<name>/index.js`). A folder's entry may import the folder's other module files with
relative specifiers (`./lib.js`, `../shared.js` from a subfolder). Every `.js` and `.mjs`
file under the folder is read when the script is (dynamic `import()` may name any of them),
except in dot-folders and `node_modules`, within MAX_MODULES files and MAX_SCRIPT_BYTES
in all; the version covers every one of them, so an edit of any makes a new version. A file
that is not strict UTF-8, or a symlink that leads out of the folder, is recorded as refused
(its import fails naming it; the rest of the worker runs). Nothing outside the folder is
read. Which imports resolve, and how, is runtime/modules.py.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shardrun.errors import ScriptError, UsageError

MAX_SCRIPT_BYTES = 8 << 20  # one file, and a folder's module files together
MAX_MODULES = 256  # module files of a folder worker besides its entry
MAX_SCAN_ENTRIES = 4096  # directory entries looked at while finding them
MAX_DEPTH = 16  # nested subfolders
MODULE_SUFFIXES = (".js", ".mjs")
SKIPPED_DIRS = ("node_modules",)
ENTRY = "index.js"

Stamp = tuple[int, int, int]  # (mtime_ns, size, inode) of a file or folder as it was read


@dataclass(frozen=True)
class Script:
    """One worker script: its name (for messages), its entry source, the other modules it may
    import and a content hash over all of them.

    `modules` is None for a single-file script (it can import nothing); for a folder, it maps
    each module file's path under the folder ("lib.js", "sub/util.mjs") to its source, or to
    the error that refuses it. `prefix` is how messages name the folder ("hello/").
    `watch` lists the files and folders it was read from with their stamps at reading (the
    registry re-reads the script when one of them changes).
    """

    name: str
    source: str
    version: str
    modules: Mapping[str, str | ScriptError] | None = field(default=None, compare=False)
    prefix: str = ""
    watch: tuple[tuple[str, Stamp], ...] = field(default=(), compare=False)

    @classmethod
    def from_source(cls, source: str, name: str = "worker.js") -> Script:
        """A single-file script from source text."""
        version = hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
        return cls(name=name, source=source, version=version)

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "worker.js") -> Script:
        """A single-file script from file bytes: strict UTF-8, else E_SCRIPT_ENCODING naming where."""
        return cls.from_source(decode(data, name), name)

    @classmethod
    def from_path(cls, path: str | Path) -> Script:
        """A script from a file, or from a folder with an index.js; missing or unreadable is E_NOT_FOUND."""
        p = Path(path)
        if p.is_dir():
            if not (p / ENTRY).is_file():
                raise UsageError(f"script folder {p} has no {ENTRY}", code="E_NOT_FOUND")
            return cls.from_dir(p, p.resolve().name or "worker")
        data, st = _read(p, f"script file {p}")
        return cls.from_bytes(data, p.name).watching(((str(p), st),))

    @classmethod
    def from_dir(cls, folder: str | Path, name: str, skip: tuple[Path, ...] = ()) -> Script:
        """A folder worker: `folder/index.js` and the module files under `folder` (not under the
        folders in `skip`: its static assets); messages name them `<name>/...`. A missing
        index.js is E_NOT_FOUND; too many or too large files E_SCRIPT_ENCODING."""
        root = Path(os.path.realpath(folder))
        prefix = f"{name}/"
        entry_path = root / ENTRY
        real = _inside(entry_path, root) if entry_path.is_symlink() else entry_path
        if real is None:
            raise UsageError(f"{prefix}{ENTRY} leads out of the worker's folder", code="E_NOT_FOUND")
        data, st = _read(real, f"{prefix}{ENTRY}", nofollow=True)
        source = decode(data, f"{prefix}{ENTRY}")
        found, folders = _scan(root, prefix, frozenset(str(p) for p in skip))
        watch = [(str(entry_path), st), *folders]
        modules: dict[str, str | ScriptError] = {}
        digest = hashlib.blake2b(digest_size=12)
        digest.update(data)
        total = len(data)
        for rel, path, link in found:
            digest.update(b"\0" + rel.encode("utf-8", "surrogateescape") + b"\0")
            real = _inside(path, root) if link else path  # folders reached are under root: no symlinked ones
            if real is None:
                modules[rel] = ScriptError(
                    f"{prefix}{rel} is a symlink that leads out of the worker's folder", code="E_IMPORT"
                )
                digest.update(b"-")
                continue
            try:
                body, fst = _read(real, f"{prefix}{rel}", nofollow=True)
            except UsageError as exc:  # vanished or unreadable since the scan
                modules[rel] = ScriptError(exc.message, code="E_IMPORT")
                digest.update(b"-")
                continue
            total += len(body)
            if total > MAX_SCRIPT_BYTES:
                raise ScriptError(
                    f"the module files of {prefix} are over the limit of {MAX_SCRIPT_BYTES} bytes in all",
                    code="E_SCRIPT_ENCODING",
                )
            watch.append((str(path), fst))
            digest.update(b"+" + len(body).to_bytes(8, "little") + body)
            try:
                modules[rel] = decode(body, f"{prefix}{rel}")
            except ScriptError as exc:
                modules[rel] = exc
        return cls(
            name=f"{prefix}{ENTRY}",
            source=source,
            version=digest.hexdigest(),
            modules=modules,
            prefix=prefix,
            watch=tuple(watch),
        )

    def watching(self, watch: tuple[tuple[str, Stamp], ...]) -> Script:
        """This script with the files it was read from."""
        return Script(self.name, self.source, self.version, self.modules, self.prefix, watch)


def decode(data: bytes, name: str) -> str:
    """File bytes as source: at most MAX_SCRIPT_BYTES, strict UTF-8 (a BOM dropped), else E_SCRIPT_ENCODING."""
    if len(data) > MAX_SCRIPT_BYTES:
        raise ScriptError(
            f"{name} is {len(data)} bytes, over the limit of {MAX_SCRIPT_BYTES}", code="E_SCRIPT_ENCODING"
        )
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScriptError(
            f"{name} is not valid UTF-8: byte 0x{data[exc.start]:02x} at {line}:{col} (offset {exc.start}): {exc.reason}",
            code="E_SCRIPT_ENCODING",
        ) from None
    return source[1:] if source.startswith("\ufeff") else source


def stamp_of(st: os.stat_result) -> Stamp:
    """What tells a changed file from an unchanged one."""
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _read(p: Path, what: str, *, nofollow: bool = False) -> tuple[bytes, Stamp]:
    """A regular file's bytes (within MAX_SCRIPT_BYTES, give or take a write under way) and its
    stamp, from the same open file. With nofollow, a symlink put in p's place since it was
    resolved is not followed."""
    try:
        fd = os.open(p, os.O_RDONLY | os.O_CLOEXEC | (os.O_NOFOLLOW if nofollow else 0))
        with open(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise UsageError(f"{what} is not a regular file", code="E_NOT_FOUND")
            if st.st_size > MAX_SCRIPT_BYTES:
                raise ScriptError(
                    f"{what} is {st.st_size} bytes, over the limit of {MAX_SCRIPT_BYTES}", code="E_SCRIPT_ENCODING"
                )
            data = f.read(st.st_size + 1)  # (growing since: the stamp differs next time, so it is read again)
    except FileNotFoundError:
        raise UsageError(f"{what} not found", code="E_NOT_FOUND") from None
    except IsADirectoryError:
        raise UsageError(f"{what} is a directory, not a file", code="E_NOT_FOUND") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what}: {exc.strerror}", code="E_NOT_FOUND") from None
    return data, stamp_of(st)


def _inside(p: Path, root: Path) -> Path | None:
    """Where p leads (symlinks resolved), if that is under root."""
    real = Path(os.path.realpath(p))
    return real if real.is_relative_to(root) else None


def _scan(
    root: Path, prefix: str, skip: frozenset[str] = frozenset()
) -> tuple[list[tuple[str, Path, bool]], list[tuple[str, Stamp]]]:
    """The module files under root except the entry ((path under root, path, is a symlink),
    sorted) and every folder looked into with its stamp. Symlinked folders, and the folders
    in `skip` (absolute real paths), are not followed."""
    found: list[tuple[str, Path, bool]] = []
    folders: list[tuple[str, Stamp]] = []
    seen = 0
    todo: list[tuple[Path, str, int]] = [(root, "", 0)]
    while todo:
        folder, rel, depth = todo.pop()
        try:
            folders.append((str(folder), stamp_of(os.stat(folder))))
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise ScriptError(f"cannot list {prefix}{rel}: {exc.strerror}", code="E_SCRIPT_ENCODING") from None
        for e in entries:
            seen += 1
            if seen > MAX_SCAN_ENTRIES:
                raise ScriptError(
                    f"{prefix} holds more than {MAX_SCAN_ENTRIES} files and folders", code="E_SCRIPT_ENCODING"
                )
            if e.name.startswith("."):
                continue
            path = f"{rel}{e.name}"
            if e.is_dir(follow_symlinks=False):
                if e.name not in SKIPPED_DIRS and depth < MAX_DEPTH and e.path not in skip:
                    todo.append((Path(e.path), f"{path}/", depth + 1))
            elif e.name.endswith(MODULE_SUFFIXES) and path != ENTRY and (e.is_symlink() or e.is_file()):
                found.append((path, Path(e.path), e.is_symlink()))
                if len(found) > MAX_MODULES:
                    raise ScriptError(f"{prefix} holds more than {MAX_MODULES} module files", code="E_SCRIPT_ENCODING")
    found.sort()
    return found, folders
