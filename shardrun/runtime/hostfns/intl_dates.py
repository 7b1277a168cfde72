"""Intl.DateTimeFormat on ICU: options -> a skeleton or styles -> a pattern (as V8 builds it) -> SimpleDateFormat."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import icu

from shardrun.runtime.hostfns import intl_locale as L

SERVICE = "Intl.DateTimeFormat"
_STYLES = {"full": icu.DateFormat.kFull, "long": icu.DateFormat.kLong, "medium": icu.DateFormat.kMedium, "short": icu.DateFormat.kShort}  # fmt: skip
_HC_CHAR = {"h11": "K", "h12": "h", "h23": "H", "h24": "k"}
_CHAR_HC = {v: k for k, v in _HC_CHAR.items()}
_TEXT = ("narrow", "short", "long")
# option -> allowed values -> skeleton letters
_FIELDS: list[tuple[str, dict[str, str]]] = [
    ("weekday", {"narrow": "EEEEE", "short": "EEE", "long": "EEEE"}),
    ("era", {"narrow": "GGGGG", "short": "G", "long": "GGGG"}),
    ("year", {"2-digit": "yy", "numeric": "y"}),
    ("month", {"2-digit": "MM", "numeric": "M", "narrow": "MMMMM", "short": "MMM", "long": "MMMM"}),
    ("day", {"2-digit": "dd", "numeric": "d"}),
    ("dayPeriod", {"narrow": "BBBBB", "short": "B", "long": "BBBB"}),
    ("hour", {"2-digit": "jj", "numeric": "j"}),
    ("minute", {"2-digit": "mm", "numeric": "m"}),
    ("second", {"2-digit": "ss", "numeric": "s"}),
    ("fractionalSecondDigits", {}),
    (
        "timeZoneName",
        {
            "short": "z",
            "long": "zzzz",
            "shortOffset": "O",
            "longOffset": "OOOO",
            "shortGeneric": "v",
            "longGeneric": "vvvv",
        },
    ),
]
_DATE_FIELDS = ("weekday", "year", "month", "day")
_TIME_FIELDS = ("dayPeriod", "hour", "minute", "second", "fractionalSecondDigits")
# ICU's UDateFormatField numbers are the indexes of the pattern letters in this string
_FIELD_LETTERS = "GyMdkHmsSEDFwWahKzYeugAZvcLQqVUOXxrbB"
_PART = {"G": "era", "y": "year", "u": "year", "r": "relatedYear", "U": "yearName", "M": "month", "L": "month", "d": "day",
         "E": "weekday", "c": "weekday", "e": "weekday", "a": "dayPeriod", "b": "dayPeriod", "B": "dayPeriod",
         "h": "hour", "H": "hour", "k": "hour", "K": "hour", "m": "minute", "s": "second", "S": "fractionalSecond",
         "z": "timeZoneName", "Z": "timeZoneName", "O": "timeZoneName", "v": "timeZoneName", "V": "timeZoneName",
         "X": "timeZoneName", "x": "timeZoneName"}  # fmt: skip


def _letters(pattern: str) -> list[tuple[str, int]]:
    """The pattern's fields as (letter, count), quoted text skipped."""
    out: list[tuple[str, int]] = []
    i, n, quoted = 0, len(pattern), False
    while i < n:
        ch = pattern[i]
        if ch == "'":
            quoted = not quoted
            i += 1
        elif not quoted and ("a" <= ch <= "z" or "A" <= ch <= "Z"):
            j = i
            while j < n and pattern[j] == ch:
                j += 1
            out.append((ch, j - i))
            i = j
        else:
            i += 1
    return out


def _replace_hour(pattern: str, ch: str) -> str:
    out, quoted = [], False
    for c in pattern:
        if c == "'":
            quoted = not quoted
        out.append(ch if not quoted and c in "hHkK" else c)
    return "".join(out)


def _from_pattern(pattern: str, day_period: bool) -> dict[str, Any]:
    """The components resolvedOptions reports, read back from the pattern as V8 does."""
    got: dict[str, Any] = {}
    for ch, n in _letters(pattern):
        text = "narrow" if n == 5 else "long" if n == 4 else "short"
        if ch == "G":
            got["era"] = text
        elif ch in "yuU":
            got["year"] = "2-digit" if n == 2 else "numeric"
        elif ch in "ML":
            got["month"] = ["numeric", "2-digit", "short", "long", "narrow"][min(n, 5) - 1]
        elif ch in "Ecde" and ch != "d":
            got["weekday"] = text if ch == "E" or n >= 3 else "short"
        elif ch == "d":
            got["day"] = "2-digit" if n == 2 else "numeric"
        elif ch == "B" and day_period:
            got["dayPeriod"] = text
        elif ch in "hHkK":
            got["hour"] = "2-digit" if n == 2 else "numeric"
        elif ch == "m":
            got["minute"] = "2-digit" if n == 2 else "numeric"
        elif ch == "s":
            got["second"] = "2-digit" if n == 2 else "numeric"
        elif ch == "S":
            got["fractionalSecondDigits"] = n
        elif ch in "zOv":
            base = {"z": "", "O": "Offset", "v": "Generic"}[ch]
            got["timeZoneName"] = ("long" if n == 4 else "short") + base
    return {k: got[k] for k, _ in _FIELDS if k in got}


class DateFormat:
    """A resolved DateTimeFormat: its ICU formatter and what resolvedOptions() reports."""

    __slots__ = ("fmt", "offset", "pattern", "resolved")

    def __init__(self, fmt: icu.SimpleDateFormat, pattern: str, resolved: dict[str, Any]) -> None:
        self.fmt, self.pattern, self.resolved = fmt, pattern, resolved
        # V8 writes a zero offset as "GMT+0" / "GMT+00:00" where ICU 72 writes "GMT"
        self.offset = next(("+0" if n < 4 else "+00:00" for c, n in _letters(pattern) if c == "O"), "")

    def format(self, t: Any) -> str:
        return self._text(L.time_value(t))

    def _text(self, when: float) -> str:
        if not self.offset:
            return str(self.fmt.format(when))
        fp = icu.FieldPosition(_FIELD_LETTERS.index("O"))
        text = str(self.fmt.format(when, fp))
        b, e = fp.getBeginIndex(), fp.getEndIndex()
        if e > b and not any(c.isdigit() for c in text[b:e]):
            text = text[:e] + self.offset + text[e:]
        return text

    def parts(self, t: Any) -> list[list[str]]:
        when = L.time_value(t)
        text = str(self.fmt.format(when))
        spans: list[tuple[int, int, str]] = []
        for ch in dict.fromkeys(c for c, _ in _letters(self.pattern)):
            fid = _FIELD_LETTERS.find(ch)
            if fid < 0:
                continue
            fp = icu.FieldPosition(fid)
            self.fmt.format(when, fp)
            if fp.getEndIndex() > fp.getBeginIndex():
                spans.append((fp.getBeginIndex(), fp.getEndIndex(), _PART.get(ch, "literal")))
        spans.sort()
        out: list[list[str]] = []
        at = 0
        for b, e, kind in spans:
            if b < at:
                continue
            if b > at:
                out.append(["literal", text[at:b]])
            out.append([kind, text[b:e]])
            at = e
        if at < len(text):
            out.append(["literal", text[at:]])
        if self.offset:
            for p in out:
                if p[0] == "timeZoneName" and not any(c.isdigit() for c in p[1]):
                    p[1] += self.offset
        return out


@lru_cache(maxsize=64)  # ~70 KB each; one per locale in use
def _generator(name: str) -> icu.DateTimePatternGenerator:
    return icu.DateTimePatternGenerator.createInstance(icu.Locale(name))


def _best(name: str, skeleton: str) -> str:
    return str(_generator(name).getBestPattern(skeleton, icu.UDateTimePatternMatchOptions.HOUR_FIELD_LENGTH))


@lru_cache(maxsize=L.CACHE)
def build(locales: Any, opts_json: Any, required: str = "any", defaults: str = "date") -> DateFormat:
    """CreateDateTimeFormat (ECMA-402 11.1.2) for the chunk's locales and options JSON."""
    o = L.options(opts_json)
    S = SERVICE
    L.pick(o, S, "localeMatcher", ("lookup", "best fit"))
    calendar = L.unicode_type(o, "calendar", "calendar")
    nu = L.unicode_type(o, "numberingSystem", "numberingSystem")
    hour12 = L.flag(o, "hour12")
    hc = L.pick(o, S, "hourCycle", ("h11", "h12", "h23", "h24"))
    if hour12 is not None:
        hc = None
    relevant = {
        "ca": lambda v: v in L.CALENDARS,
        "hc": lambda v: v in _HC_CHAR,
        "nu": lambda v: v in L.numbering_systems(),
    }
    if hour12 is not None:  # hour12 overrides the locale's -u-hc- and drops it from the locale
        del relevant["hc"]
    r = L.resolve(locales, relevant, {"ca": calendar, "hc": hc, "nu": nu})
    tz_name = o.get("timeZone")
    zone_id, zone = L.time_zone(L.DEFAULT_TIME_ZONE if tz_name is None else str(tz_name))
    wanted: dict[str, Any] = {}
    for key, values in _FIELDS:
        if key == "fractionalSecondDigits":
            v = L.number(o, key, 1, 3, None)
        else:
            v = L.pick(o, S, key, values)
        if v is not None:
            wanted[key] = v
    L.pick(o, S, "formatMatcher", ("basic", "best fit"))
    date_style = L.pick(o, S, "dateStyle", tuple(_STYLES))
    time_style = L.pick(o, S, "timeStyle", tuple(_STYLES))
    hc = r.keys.get("hc") if hour12 is None else None
    name = r.icu.getName()
    if hour12 is not None:
        hc = ("h11" if _default_hc(name) == "h11" else "h12") if hour12 else "h23"
    if date_style or time_style:
        if wanted:
            raise L.type_error("Invalid option : option")
        if required == "date" and time_style:
            raise L.type_error("Invalid option : timeStyle")
        if required == "time" and date_style:
            raise L.type_error("Invalid option : dateStyle")
        none = icu.DateFormat.kNone
        base = icu.DateFormat.createDateTimeInstance(
            _STYLES[date_style] if date_style else none, _STYLES[time_style] if time_style else none, r.icu
        )
        pattern = str(base.toPattern())
        if hc and time_style:
            skeleton = str(icu.DateTimePatternGenerator.staticGetSkeleton(pattern))
            skeleton = "".join(_HC_CHAR[hc] if c in "hHkKjJC" else c for c in skeleton)
            pattern = _replace_hour(_best(name, skeleton), _HC_CHAR[hc])
    else:
        need = True
        if required in ("date", "any") and any(k in wanted for k in _DATE_FIELDS):
            need = False
        if required in ("time", "any") and any(k in wanted for k in _TIME_FIELDS):
            need = False
        if need and defaults in ("date", "all"):
            wanted.update(year="numeric", month="numeric", day="numeric")
        if need and defaults in ("time", "all"):
            wanted.update(hour="numeric", minute="numeric", second="numeric")
        skeleton = ""
        for key, values in _FIELDS:
            v = wanted.get(key)
            if v is None:
                continue
            letters = "S" * v if key == "fractionalSecondDigits" else values[v]
            if key == "hour" and hc:
                letters = letters.replace("j", _HC_CHAR[hc])
            elif key == "hour" and "dayPeriod" in wanted:  # a 'j' hour would drop the day period
                letters = letters.replace("j", "K" if _default_hc(name) == "h11" else "h")
            skeleton += letters
        pattern = _best(name, skeleton)
        if hc and "hour" in wanted:
            pattern = _replace_hour(pattern, _HC_CHAR[hc])
    pattern = pattern.replace("\u202f", " ")  # V8 keeps the ASCII space before AM/PM
    fmt = icu.SimpleDateFormat(pattern, r.icu)
    cal = fmt.getCalendar()
    if cal.getType() == "gregorian":  # proleptic Gregorian, as ECMAScript's dates are
        g = icu.GregorianCalendar(r.icu)
        g.setGregorianChange(-L.MAX_TIME / 1000)
        fmt.setCalendar(g)
    fmt.setTimeZone(zone)
    cal_type = str(fmt.getCalendar().getType())
    resolved: dict[str, Any] = {
        "locale": r.tag,
        "calendar": {"gregorian": "gregory", "ethiopic-amete-alem": "ethioaa"}.get(cal_type, cal_type),
        "numberingSystem": L.numbering_of(r.icu),
        "timeZone": zone_id,
    }
    hour_letters = [c for c, _ in _letters(pattern) if c in "hHkK"]
    if hour_letters:
        cycle = _CHAR_HC[hour_letters[0]]
        resolved["hourCycle"] = cycle
        resolved["hour12"] = cycle in ("h11", "h12")
    if date_style or time_style:
        if date_style:
            resolved["dateStyle"] = date_style
        if time_style:
            resolved["timeStyle"] = time_style
    else:
        resolved.update(_from_pattern(pattern, "dayPeriod" in wanted))
    return DateFormat(fmt, pattern, resolved)


@lru_cache(maxsize=L.CACHE)
def _default_hc(name: str) -> str:
    for c, _ in _letters(_best(name, "j")):
        if c in _CHAR_HC:
            return _CHAR_HC[c]
    return "h23"
