"""A worker's asset directory on disk: its [assets] table, and opening a request path inside it safely.

A request path becomes a file only through `open_asset`: the path is percent-decoded once and
split on "/"; a segment that is empty, "." or "..", or that holds a backslash, a NUL or a
control character, or a name that starts with "." (except `.well-known`), is not an asset.
The file is then opened one segment at a time from the directory's own descriptor
(`openat` with O_NOFOLLOW), so no symbolic link is followed anywhere under the directory
(a link is not an asset, wherever it points) and nothing above the directory can be reached,
even when the tree changes between two requests. Only regular files are served.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote_to_bytes

from pydantic import BaseModel, ConfigDict, Field

MAX_PATH_BYTES = 1024  # a decoded request path longer than this is not an asset
MAX_SEGMENTS = 32
REFUSED = re.compile(r"[\x00-\x1f\x7f\\]")  # control characters and backslashes, anywhere in a decoded path
ETAG_CACHE = 4096  # (file identity) -> content hash, per process
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class AssetConfig(BaseModel):
    """[assets] of a worker.toml, with wrangler's names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    directory: str = Field(
        min_length=1, max_length=256, description="the folder of files, relative to the worker's folder, inside it"
    )
    binding: str | None = Field(
        None, pattern=r"^[A-Za-z_$][A-Za-z0-9_$]{0,63}$", description="env name of the assets binding (env.ASSETS)"
    )
    run_worker_first: bool = Field(
        False, description="every request goes to the worker's fetch (it serves files through its binding)"
    )
    html_handling: Literal["auto-trailing-slash", "none"] = Field(
        "auto-trailing-slash", description="/page serves page.html, /dir/ serves dir/index.html (and redirects)"
    )
    not_found_handling: Literal["none", "404-page", "single-page-application"] = Field(
        "none", description="what a path with no file gets when no fetch handler takes it"
    )


@dataclass(frozen=True)
class Assets:
    """A worker's assets: the directory (resolved when worker.toml was read) and how to serve it."""

    root: Path
    config: AssetConfig


def resolve_directory(folder: Path, cfg: AssetConfig) -> Path:
    """The [assets] directory as an absolute path inside the worker's folder; ValueError naming the problem."""
    rel = Path(cfg.directory)
    if rel.is_absolute() or "\\" in cfg.directory or "\x00" in cfg.directory:
        raise ValueError(f"must be a path relative to the worker's folder, got {cfg.directory!r}")
    base = Path(os.path.realpath(folder))
    root = Path(os.path.realpath(folder / rel))
    if not root.is_relative_to(base):
        raise ValueError(f"{cfg.directory!r} leaves the worker's folder")
    if root == base:
        # The folder holds worker.toml (its secrets) and the script: never served as files.
        raise ValueError(f"{cfg.directory!r} is the worker's folder itself; use a subfolder such as 'public'")
    if not root.is_dir():
        raise ValueError(f"{cfg.directory!r} is not a directory")
    return root


def segments(path: str) -> list[str] | None:
    """The decoded segments of a request path ("/a/b%20c" -> ["a", "b c"]); None when it cannot be an asset.

    A trailing "/" gives a last segment of "" (a directory)."""
    if not path.startswith("/") or "\\" in path:
        return None
    try:  # the front door's path is its bytes as latin-1; a URL's is ASCII
        raw = unquote_to_bytes(path.encode("latin-1"))
    except UnicodeEncodeError:
        raw = unquote_to_bytes(path.encode("utf-8"))
    if len(raw) > MAX_PATH_BYTES:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if REFUSED.search(text):
        return None
    parts = text[1:].split("/")
    if len(parts) > MAX_SEGMENTS:
        return None
    for i, seg in enumerate(parts):
        if seg == "" and i == len(parts) - 1:
            continue
        if seg in ("", ".", "..") or (seg.startswith(".") and not (seg == ".well-known" and i < len(parts) - 1)):
            return None
    return parts


@dataclass
class OpenFile:
    """An asset opened for reading (close it)."""

    fd: int
    size: int
    mtime: float
    identity: tuple[int, int, int, int]  # dev, inode, size, mtime_ns: what the cached hash is keyed on

    def read(self, start: int = 0, length: int | None = None) -> bytes:
        """`length` bytes from `start` (all the rest when None)."""
        want = self.size - start if length is None else length
        chunks, got = [], 0
        while got < want:
            b = os.pread(self.fd, min(want - got, 1 << 20), start + got)
            if not b:
                break  # the file shrank under us: what there is
            chunks.append(b)
            got += len(b)
        return b"".join(chunks)

    def close(self) -> None:
        os.close(self.fd)


def open_asset(root: Path, parts: list[str]) -> OpenFile | None:
    """The regular file at `parts` under `root`, never through a symlink; None when there is none."""
    if not parts or parts[-1] == "":
        return None
    try:
        fd = os.open(root, DIR_FLAGS)
    except OSError:
        return None
    try:
        for seg in parts[:-1]:
            nxt = os.open(seg, DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = nxt
        f = os.open(parts[-1], FILE_FLAGS, dir_fd=fd)
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    st = os.fstat(f)
    if not stat.S_ISREG(st.st_mode):
        os.close(f)
        return None
    return OpenFile(f, st.st_size, st.st_mtime, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))


class EtagCache:
    """Content hashes of files by identity (a strong ETag changes whenever the bytes can have)."""

    def __init__(self, size: int = ETAG_CACHE) -> None:
        self.size = size
        self._hashes: OrderedDict[tuple[int, int, int, int], str] = OrderedDict()

    def peek(self, f: OpenFile) -> str | None:
        """The file's ETag if it was hashed before (nothing is read)."""
        return self._hashes.get(f.identity)

    def get(self, f: OpenFile, body: bytes | None = None) -> str:
        """The file's ETag ("..."), hashing `body` (or the file) on a miss."""
        tag = self._hashes.get(f.identity)
        if tag is not None:
            self._hashes.move_to_end(f.identity)
            return tag
        data = f.read() if body is None else body
        tag = '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'
        self._hashes[f.identity] = tag
        if len(self._hashes) > self.size:
            self._hashes.popitem(last=False)
        return tag
