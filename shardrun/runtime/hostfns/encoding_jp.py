"""The standard's euc-jp and iso-2022-jp decoders (WHATWG Encoding Standard), for hostfns/encoding.py.

Both are small state machines that look characters up in the standard's jis0208 and jis0212
indexes. Python's euc_jp and iso2022_jp codecs read other tables (no NEC row 13, U+301C where the
index has U+FF5E) and other error rules (iso-2022-jp's escape after escape), so the machines are
written here after the standard, and only the tables come from Python: jis0208 through cp932
(Windows-31J, the table the standard's jis0208 index was made from) and jis0212 through euc_jp.
Each decoder's whole state is one int, which JS keeps between `stream: true` calls.
"""

from __future__ import annotations

from functools import cache

FFFD = "\ufffd"


@cache
def _jis0208() -> tuple[str | None, ...]:
    """The character of each pointer (lead - 0x21) * 94 + trail - 0x21, or None."""
    out: list[str | None] = []
    for lead in range(0x21, 0x7F):
        s1 = (lead + 1) // 2 + (0x70 if lead <= 0x5E else 0xB0)
        for trail in range(0x21, 0x7F):
            s2 = (trail + 0x1F + (trail >= 0x60)) if lead % 2 else trail + 0x7E
            try:
                out.append(bytes([s1, s2]).decode("cp932"))
            except UnicodeDecodeError:
                out.append(None)
    return tuple(out)


@cache
def _jis0212() -> tuple[str | None, ...]:
    out: list[str | None] = []
    for lead in range(0xA1, 0xFF):
        for trail in range(0xA1, 0xFF):
            try:
                out.append(bytes([0x8F, lead, trail]).decode("euc_jp"))
            except UnicodeDecodeError:
                out.append(None)
    return tuple(out)


class Fatal(Exception):
    """A decoding error with `fatal` set."""


def euc_jp(data: bytes, fatal: bool, stream: bool, mode: int) -> tuple[str, int]:
    """Decode a chunk; mode: the lead byte, plus 0x100 when it follows 0x8F (jis0212)."""
    lead, j0212 = mode & 0xFF, bool(mode & 0x100)
    out: list[str] = []
    i, n = 0, len(data)

    def error() -> None:
        if fatal:
            raise Fatal
        out.append(FFFD)

    while i < n:
        b = data[i]
        i += 1
        if lead == 0x8E and 0xA1 <= b <= 0xDF:
            lead = 0
            out.append(chr(0xFF61 - 0xA1 + b))
        elif lead == 0x8F and 0xA1 <= b <= 0xFE:
            j0212, lead = True, b
        elif lead:
            cp = None
            if 0xA1 <= lead <= 0xFE and 0xA1 <= b <= 0xFE:
                p = (lead - 0xA1) * 94 + b - 0xA1
                cp = (_jis0212() if j0212 else _jis0208())[p]
            lead, j0212 = 0, False
            if cp is not None:
                out.append(cp)
                continue
            if b < 0x80:
                i -= 1  # read again
            error()
        elif b < 0x80:
            out.append(chr(b))
        elif b in (0x8E, 0x8F) or 0xA1 <= b <= 0xFE:
            lead = b
        else:
            error()
    if lead and not stream:
        lead, j0212 = 0, False
        error()
    return "".join(out), lead | (0x100 if j0212 else 0)


# iso-2022-jp states
ASCII, ROMAN, KATAKANA, LEAD, TRAIL, ESC_START, ESC = range(7)


def iso_2022_jp(data: bytes, fatal: bool, stream: bool, mode: int) -> tuple[str, int]:
    """Decode a chunk; mode packs the decoder state, the output state, the lead and the output flag."""
    state, out_state, lead, flag = mode & 7, (mode >> 3) & 7, (mode >> 6) & 0xFF, bool(mode >> 14 & 1)
    out: list[str] = []
    queue: list[int] = []  # bytes put back to be read again, next first
    i, n = 0, len(data)

    def error() -> None:
        if fatal:
            raise Fatal
        out.append(FFFD)

    while True:
        if queue:
            b = queue.pop()
        elif i < n:
            b = data[i]
            i += 1
        elif stream:
            break
        else:
            b = -1  # end of the input
        if state in (ASCII, ROMAN, KATAKANA, LEAD):
            if b == 0x1B:
                state = ESC_START
                continue
            if b == -1:
                break
            flag = False
            if state == ASCII and 0 <= b <= 0x7F and b not in (0x0E, 0x0F):
                out.append(chr(b))
            elif state == ROMAN and 0 <= b <= 0x7F and b not in (0x0E, 0x0F):
                out.append("\u00a5" if b == 0x5C else "\u203e" if b == 0x7E else chr(b))
            elif state == KATAKANA and 0x21 <= b <= 0x5F:
                out.append(chr(0xFF61 - 0x21 + b))
            elif state == LEAD and 0x21 <= b <= 0x7E:
                lead, state = b, TRAIL
            else:
                error()
        elif state == TRAIL:
            if b == 0x1B:
                state = ESC_START
                error()
                continue
            state = LEAD
            if 0x21 <= b <= 0x7E and 0x21 <= lead <= 0x7E:
                cp = _jis0208()[(lead - 0x21) * 94 + b - 0x21]
                if cp is None:
                    error()
                else:
                    out.append(cp)
                continue
            if b == -1:
                queue.append(-1)
            error()
        elif state == ESC_START:
            if b in (0x24, 0x28):
                lead, state = b, ESC
                continue
            if b != -1:
                queue.append(b)
            else:
                queue.append(-1)
            flag, state = False, out_state
            error()
        else:  # ESC
            first, lead = lead, 0
            new = None
            if first == 0x28 and b == 0x42:
                new = ASCII
            elif first == 0x28 and b == 0x4A:
                new = ROMAN
            elif first == 0x28 and b == 0x49:
                new = KATAKANA
            elif first == 0x24 and b in (0x40, 0x42):
                new = LEAD
            if new is not None:
                state = out_state = new
                was, flag = flag, True
                if was:
                    error()
                continue
            queue.append(b)  # b, then the first byte of the escape: read again
            queue.append(first)
            flag, state = False, out_state
            error()
    return "".join(out), state | out_state << 3 | lead << 6 | flag << 14
