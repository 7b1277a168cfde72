"""Worker scripts as the runtime takes them: a name, UTF-8 source and a code version."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from shardrun.errors import ScriptError, UsageError

MAX_SCRIPT_BYTES = 8 << 20


@dataclass(frozen=True)
class Script:
    """One worker script: its name (for messages), its source and a content hash."""

    name: str
    source: str
    version: str

    @classmethod
    def from_source(cls, source: str, name: str = "worker.js") -> Script:
        """A script from source text."""
        version = hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
        return cls(name=name, source=source, version=version)

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "worker.js") -> Script:
        """A script from file bytes: strict UTF-8, else E_SCRIPT_ENCODING naming where."""
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
        if source.startswith("\ufeff"):
            source = source[1:]
        return cls.from_source(source, name)

    @classmethod
    def from_path(cls, path: str | Path) -> Script:
        """A script from a file; a missing or unreadable file is E_NOT_FOUND."""
        p = Path(path)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise UsageError(f"script file not found: {p}", code="E_NOT_FOUND") from None
        except IsADirectoryError:
            raise UsageError(f"script path is a directory, not a file: {p}", code="E_NOT_FOUND") from None
        except OSError as exc:
            raise UsageError(f"cannot read script file {p}: {exc.strerror}", code="E_NOT_FOUND") from None
        return cls.from_bytes(data, p.name)
