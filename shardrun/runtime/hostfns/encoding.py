"""TextDecoder's legacy encodings (WHATWG Encoding Standard), decoded by the host's Python codecs.

UTF-16 and x-user-defined are decoded in JS (js/src/encoding.js), and UTF-8 of a few bytes;
longer UTF-8 is encoded and decoded here (the engine's C is far faster than a JS loop). JS resolves the
labels, so these functions take an encoding's canonical name. A single-byte encoding is a table
JS asks for once per isolate and decodes with itself; a multi-byte one is decoded here, chunk by
chunk: JS keeps the decoder's state (the bytes of an unfinished sequence and the codec's mode,
e.g. iso-2022-jp's) between `stream: true` calls, so the host keeps nothing.

Where Python's tables differ from the standard's indexes, the standard wins for the single-byte
ones (SINGLE_BYTE_FIXES). gbk, gb18030, big5, shift_jis and euc-kr run Python's codecs with an
error handler that resumes where the standard's decoder does; euc-jp and iso-2022-jp are the
standard's own state machines (encoding_jp.py) on Python's tables. The differences that stay
are in the README.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from functools import cache, partial
from typing import Any

from shardrun.runtime.hostcall import HostCallError, HostFn, HostState
from shardrun.runtime.hostfns import encoding_jp

MAX_DECODE_BYTES = 16 * 1024 * 1024  # per call: a bigger input is decoded in pieces by JS

# canonical name -> Python codec
SINGLE_BYTE: dict[str, str] = {
    "ibm866": "cp866",
    **{f"iso-8859-{n}": f"iso8859_{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)},
    "iso-8859-8-i": "iso8859_8",
    "koi8-r": "koi8_r",
    "koi8-u": "koi8_u",
    "macintosh": "mac_roman",
    "windows-874": "cp874",
    **{f"windows-{n}": f"cp{n}" for n in range(1250, 1259)},
    "x-mac-cyrillic": "mac_cyrillic",
}
# The standard's index where Python's codec has another character or none.
SINGLE_BYTE_FIXES: dict[str, dict[int, str]] = {
    "koi8-u": {0xAE: "\u045e", 0xBE: "\u040e"},  # the standard's KOI8-U is KOI8-RU
    "windows-1255": {0xCA: "\u05ba"},
}
# windows-*: a byte 0x80-0x9F Python leaves undefined is the C1 control of the same number.
MULTI_BYTE: dict[str, str] = {
    "gbk": "gb18030",  # the standard decodes gbk with its gb18030 decoder
    "gb18030": "gb18030",
    "big5": "big5hkscs",  # the standard's big5 is Big5-HKSCS
    "euc-jp": "",  # "": the standard's state machine in encoding_jp.py, on Python's tables
    "iso-2022-jp": "",
    "shift_jis": "cp932",  # the standard's shift_jis is Windows-31J
    "euc-kr": "cp949",  # the standard's euc-kr is Windows-949 (UHC)
}


# The bytes that start a two-byte sequence in the standard's decoders.
_LEADS: dict[str, Callable[[int], bool]] = {
    "gbk": lambda b: 0x81 <= b <= 0xFE,
    "gb18030": lambda b: 0x81 <= b <= 0xFE,
    "big5": lambda b: 0x81 <= b <= 0xFE,
    "euc-kr": lambda b: 0x81 <= b <= 0xFE,
    "shift_jis": lambda b: 0x81 <= b <= 0x9F or 0xE0 <= b <= 0xFC,
}


def _recover(name: str, exc: UnicodeError, strict: bool) -> tuple[str, int]:
    """An error handler that resumes where the standard's decoder does.

    The standard reads a lead byte and the byte after it as one error unless that byte is ASCII
    (it is then read again); Python's codecs give U+FFFD for the lead alone and read the next
    byte as a new lead. gbk/gb18030 also read a lone 0x80 as U+20AC, which Python refuses.
    """
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    data, i = exc.object, exc.start
    b = data[i]
    if b == 0x80 and name in ("gbk", "gb18030"):
        return "\u20ac", i + 1
    if strict:
        raise exc
    nxt = data[i + 1] if i + 1 < len(data) else 0
    if not _LEADS[name](b) or nxt < 0x80:
        return "\ufffd", i + 1
    return "\ufffd", i + 2


for _name in _LEADS:
    codecs.register_error(f"whatwg-{_name}-strict", partial(_recover, _name, strict=True))
    codecs.register_error(f"whatwg-{_name}-replace", partial(_recover, _name, strict=False))


# cp932 reads the single bytes 0xA0 and 0xFD-0xFF as these private-use characters; for the
# standard's shift_jis they are errors (and its table has no other way to these four).
_CP932_SINGLES = frozenset("\uf8f0\uf8f1\uf8f2\uf8f3")
_CP932_SINGLES_TO_FFFD = {ord(c): "\ufffd" for c in _CP932_SINGLES}


@cache
def _table(name: str) -> str:
    codec = SINGLE_BYTE[name]
    fixes = SINGLE_BYTE_FIXES.get(name, {})
    out = []
    for b in range(0x80, 0x100):
        ch = fixes.get(b) or bytes([b]).decode(codec, "replace")
        if ch == "\ufffd" and name.startswith("windows-") and b < 0xA0:
            ch = chr(b)
        out.append(ch)
    return "".join(out)


def table(state: HostState, name: Any) -> str:
    """The characters of bytes 0x80-0xFF in a single-byte encoding; U+FFFD where it has none."""
    if type(name) is not str or name not in SINGLE_BYTE:
        raise HostCallError(f"encoding.table: not a single-byte encoding: {name!r}")
    return _table(name)


def decode(state: HostState, name: Any, data: Any, fatal: Any, stream: Any, pending: Any, mode: Any) -> list[Any]:
    """Decode `pending + data` in a multi-byte encoding, the codec in `mode`.

    Returns [text, rest, mode]: with `stream`, `rest` (bytes) and `mode` (int) are the unfinished
    sequence and the codec's state to pass with the next chunk; without, they are b"" and 0 and an
    unfinished sequence at the end is an error. `fatal`: an error makes text None (JS throws its
    TypeError) instead of giving U+FFFD.
    """
    if type(name) is not str or name not in MULTI_BYTE:
        raise HostCallError(f"encoding.decode: not a multi-byte encoding: {name!r}")
    if type(mode) is float and mode.is_integer():  # a number JS keeps as a double
        mode = int(mode)
    if not isinstance(data, bytes) or not isinstance(pending, bytes) or type(mode) is not int:
        raise HostCallError("encoding.decode: data and pending must be bytes, mode an integer")
    if len(data) + len(pending) > MAX_DECODE_BYTES:
        raise HostCallError(f"encoding.decode: over {MAX_DECODE_BYTES} bytes in one call")
    if not MULTI_BYTE[name]:
        if pending:
            raise HostCallError(f"encoding.decode: {name} keeps its whole state in the mode")
        machine = encoding_jp.euc_jp if name == "euc-jp" else encoding_jp.iso_2022_jp
        try:
            out, mode = machine(data, bool(fatal), bool(stream), mode & 0x7FFFFFFF)
        except encoding_jp.Fatal:
            return [None, b"", 0]
        return [out, b"", mode if stream else 0]
    if name in _LEADS:
        errors = f"whatwg-{name}-strict" if fatal else f"whatwg-{name}-replace"
    else:
        errors = "strict" if fatal else "replace"
    dec = codecs.getincrementaldecoder(MULTI_BYTE[name])(errors)
    if pending or mode:
        try:
            dec.setstate((pending, mode))
        except (ValueError, TypeError, OverflowError) as e:
            raise HostCallError(f"encoding.decode: not a decoder state: {e}") from None
    try:
        got = dec.decode(data, final=False)
        text = got if stream else _finish(name, dec, got, fatal)
    except UnicodeDecodeError:
        return [None, b"", 0]
    if text is None:
        return [None, b"", 0]
    if name in ("gbk", "gb18030") and "\ue5e5" in text:
        text = text.replace("\ue5e5", "\u3000")  # 0xA3A0: the standard (and workerd) read U+3000
    if name == "shift_jis" and any(c in text for c in _CP932_SINGLES):
        if fatal:
            return [None, b"", 0]
        text = text.translate(_CP932_SINGLES_TO_FFFD)
    if not stream:
        return [text, b"", 0]
    rest, flag = dec.getstate()
    return [text, rest, flag]


def _finish(name: str, dec: Any, text: str, fatal: bool) -> str | None:
    """The end of the input: an unfinished sequence is one error, as the standard reads it.

    Python's decoders drop whatever follows an unfinished sequence at the end (their error
    handler cannot resume there), so the bytes the standard reads again are re-fed here.
    """
    parts = [text]
    for _ in range(8):  # each round takes at least one byte of a rest of at most 4
        rest, flag = dec.getstate()
        if not rest:
            break
        if fatal:
            return None
        skip = _unfinished(name, rest)
        dec.setstate((b"", flag))
        parts += ["\ufffd", dec.decode(rest[skip:], final=False)]
    parts.append(dec.decode(b"", final=True))
    return "".join(parts)


def _unfinished(name: str, rest: bytes) -> int:
    """How many bytes of an unfinished sequence at the end the standard's decoder takes as one error."""
    if len(rest) >= 2:
        n = rest[1]
        if name in ("gbk", "gb18030") and 0x30 <= n <= 0x39:  # a four-byte sequence
            return 1 if len(rest) >= 3 and not 0x81 <= rest[2] <= 0xFE else len(rest)
    return len(rest)


def utf8_decode(state: HostState, data: Any, fatal: Any, stream: Any) -> list[Any]:
    """UTF-8 bytes to text: [text, bytes consumed] (with `stream`, an unfinished sequence at the
    end is left for the next chunk), or [None, 0] for an error with `fatal`.

    Python's decoder replaces the same maximal subparts with U+FFFD as the standard's does.
    """
    if not isinstance(data, bytes):
        raise HostCallError("encoding.utf8_decode: data must be bytes")
    if len(data) > MAX_DECODE_BYTES:
        raise HostCallError(f"encoding.utf8_decode: over {MAX_DECODE_BYTES} bytes in one call")
    try:
        text, used = codecs.utf_8_decode(data, "strict" if fatal else "replace", not stream)
    except UnicodeDecodeError:
        return [None, 0]
    return [text, used]


def utf8_encode(state: HostState, text: Any) -> bytes:
    """A well-formed string (JS calls toWellFormed first) as UTF-8."""
    if type(text) is not str:
        raise HostCallError("encoding.utf8_encode: text must be a string")
    return text.encode("utf-8", "replace")


def utf8_encode_into(state: HostState, text: Any, room: Any) -> list[Any]:
    """TextEncoder.encodeInto: [the UTF-8 of the longest prefix of whole characters that fits in
    `room` bytes, how many UTF-16 code units of `text` that prefix is]."""
    if type(text) is not str or type(room) is not int or room < 0:
        raise HostCallError("encoding.utf8_encode_into: a string and a byte count")
    data = text.encode("utf-8", "replace")
    if len(data) <= room:
        return [data, len(text.encode("utf-16-le", "surrogatepass")) // 2]
    end = room
    while end > 0 and 0x80 <= data[end] <= 0xBF:  # back to the start of the character cut in two
        end -= 1
    head = data[:end]
    return [head, len(head.decode("utf-8").encode("utf-16-le")) // 2]


FUNCS: dict[str, HostFn] = {
    "encoding.utf8_encode_into": utf8_encode_into,
    "encoding.table": table,
    "encoding.decode": decode,
    "encoding.utf8_decode": utf8_decode,
    "encoding.utf8_encode": utf8_encode,
}
