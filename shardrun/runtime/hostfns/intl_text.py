"""Intl.Collator, ListFormat, Segmenter, DisplayNames and Locale, and locale-aware case mapping, on ICU."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import icu
import orjson

from shardrun.runtime.hostfns import intl_locale as L

MAX_TEXT = 1 << 20  # UTF-16 units of one string segmented or case-mapped on the host
MAX_ITEMS = 10_000  # strings in one ListFormat list
_A = icu.UCollAttribute
_V = icu.UCollAttributeValue


def _text(s: Any, what: str) -> str:
    if not isinstance(s, str):
        raise L.type_error(f"{what}: not a string")
    if len(s) > MAX_TEXT:
        raise L.range_error(f"{what}: a string of more than {MAX_TEXT} characters")
    return s


# ---- Collator -------------------------------------------------------------------------------------


class Collation:
    __slots__ = ("coll", "resolved")

    def __init__(self, coll: icu.Collator, resolved: dict[str, Any]) -> None:
        self.coll, self.resolved = coll, resolved

    def compare(self, a: Any, b: Any) -> int:
        return int(self.coll.compare(_text(a, "compare"), _text(b, "compare")))


@lru_cache(maxsize=L.CACHE)
def collator(locales: Any, opts_json: Any) -> Collation:
    """CreateCollator (ECMA-402 10.1.2)."""
    S = "Intl.Collator"
    o = L.options(opts_json)
    usage = L.pick(o, S, "usage", ("sort", "search"), "sort")
    L.pick(o, S, "localeMatcher", ("lookup", "best fit"))
    co = L.unicode_type(o, "collation", "collation")
    numeric = L.flag(o, "numeric")
    case_first = L.pick(o, S, "caseFirst", ("upper", "lower", "false"))
    r0 = L.resolve(locales, {}, {}, "collator")
    icu_kinds = icu.Collator.getKeywordValuesForLocale("collation", r0.icu, False)
    kinds = {L.COLLATIONS_BCP.get(str(k), str(k)) for k in icu_kinds} - L.COLLATIONS_HIDDEN
    r = L.resolve(
        locales,
        {
            "co": lambda v: v in kinds,
            "kn": lambda v: v in ("true", "false"),
            "kf": lambda v: v in ("upper", "lower", "false"),
        },
        {"co": co, "kn": None if numeric is None else ("true" if numeric else "false"), "kf": case_first},
        "collator",
    )
    sensitivity = L.pick(o, S, "sensitivity", ("base", "accent", "case", "variant"), "variant")
    ignore = L.flag(o, "ignorePunctuation")
    loc = icu.Locale(r.icu.getName())
    if usage == "search":
        loc.setKeywordValue("collation", "search")
    coll = icu.Collator.createInstance(loc)
    strength = {"base": _V.PRIMARY, "accent": _V.SECONDARY, "case": _V.PRIMARY, "variant": _V.TERTIARY}[sensitivity]
    coll.setAttribute(_A.STRENGTH, strength)
    if sensitivity == "case":
        coll.setAttribute(_A.CASE_LEVEL, _V.ON)
    if ignore is not None:  # else the locale's default (Thai ignores punctuation)
        coll.setAttribute(_A.ALTERNATE_HANDLING, _V.SHIFTED if ignore else _V.NON_IGNORABLE)
    kn = r.keys.get("kn")
    if kn is not None:
        coll.setAttribute(_A.NUMERIC_COLLATION, _V.ON if kn == "true" else _V.OFF)
    kf = r.keys.get("kf")
    if kf is not None:
        coll.setAttribute(_A.CASE_FIRST, {"upper": _V.UPPER_FIRST, "lower": _V.LOWER_FIRST, "false": _V.OFF}[kf])
    cf = coll.getAttribute(_A.CASE_FIRST)
    resolved = {
        "locale": r.tag,
        "usage": usage,
        "sensitivity": sensitivity,
        "ignorePunctuation": coll.getAttribute(_A.ALTERNATE_HANDLING) == _V.SHIFTED,
        "collation": r.keys.get("co", "default"),
        "numeric": coll.getAttribute(_A.NUMERIC_COLLATION) == _V.ON,
        "caseFirst": "upper" if cf == _V.UPPER_FIRST else "lower" if cf == _V.LOWER_FIRST else "false",
    }
    return Collation(coll, resolved)


# ---- ListFormat -----------------------------------------------------------------------------------


class Lists:
    __slots__ = ("fmt", "resolved")

    def __init__(self, fmt: icu.ListFormatter, resolved: dict[str, Any]) -> None:
        self.fmt, self.resolved = fmt, resolved

    def _value(self, items_json: Any) -> Any:
        items = orjson.loads(items_json) if isinstance(items_json, str) else None
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise L.range_error(f"Intl.ListFormat: at most {MAX_ITEMS} strings")
        return self.fmt.formatStringsToValue([_text(s, "Intl.ListFormat") for s in items])

    def format(self, items: Any) -> str:
        return str(self._value(items))

    def parts(self, items: Any) -> list[list[str]]:
        fv = self._value(items)
        text = str(fv)
        out: list[list[str]] = []
        cfp = icu.ConstrainedFieldPosition()
        cfp.constrainField(icu.UFieldCategory.LIST, 1)  # ULISTFMT_ELEMENT_FIELD
        at = 0
        while fv.nextPosition(cfp):
            b, e = cfp.getStart(), cfp.getLimit()
            if b > at:
                out.append(["literal", text[at:b]])
            out.append(["element", text[b:e]])
            at = e
        if at < len(text):
            out.append(["literal", text[at:]])
        return out


@lru_cache(maxsize=L.CACHE)
def list_format(locales: Any, opts_json: Any) -> Lists:
    S = "Intl.ListFormat"
    o = L.options(opts_json)
    L.pick(o, S, "localeMatcher", ("lookup", "best fit"))
    r = L.resolve(locales, {}, {})
    kind = L.pick(o, S, "type", ("conjunction", "disjunction", "unit"), "conjunction")
    style = L.pick(o, S, "style", ("long", "short", "narrow"), "long")
    t = {"conjunction": icu.UListFormatterType.AND, "disjunction": icu.UListFormatterType.OR, "unit": icu.UListFormatterType.UNITS}[kind]  # fmt: skip
    w = {"long": icu.UListFormatterWidth.WIDE, "short": icu.UListFormatterWidth.SHORT, "narrow": icu.UListFormatterWidth.NARROW}[style]  # fmt: skip
    return Lists(icu.ListFormatter.createInstance(r.icu, t, w), {"locale": r.tag, "type": kind, "style": style})


# ---- Segmenter ------------------------------------------------------------------------------------


class Segments:
    __slots__ = ("granularity", "loc", "resolved")

    def __init__(self, loc: icu.Locale, granularity: str, resolved: dict[str, Any]) -> None:
        self.loc, self.granularity, self.resolved = loc, granularity, resolved

    def split(self, text: Any) -> list[int]:
        """The boundaries after 0 (UTF-16 offsets); for words each is followed by 1 if the segment is word-like."""
        s = _text(text, "Intl.Segmenter")
        make = {"grapheme": icu.BreakIterator.createCharacterInstance, "word": icu.BreakIterator.createWordInstance,
                "sentence": icu.BreakIterator.createSentenceInstance}[self.granularity]  # fmt: skip
        it = make(self.loc)
        it.setText(s)
        out: list[int] = []
        words = self.granularity == "word"
        it.first()
        for b in it:
            out.append(b)
            if words:
                out.append(1 if it.getRuleStatus() >= 100 else 0)  # UBRK_WORD_NONE_LIMIT
        return out


@lru_cache(maxsize=L.CACHE)
def segmenter(locales: Any, opts_json: Any) -> Segments:
    S = "Intl.Segmenter"
    o = L.options(opts_json)
    L.pick(o, S, "localeMatcher", ("lookup", "best fit"))
    r = L.resolve(locales, {}, {})
    g = L.pick(o, S, "granularity", ("grapheme", "word", "sentence"), "grapheme")
    return Segments(r.icu, g, {"locale": r.tag, "granularity": g})


# ---- DisplayNames ---------------------------------------------------------------------------------

_CODE = {
    "region": re.compile(r"(?:[A-Za-z]{2}|[0-9]{3})\Z"),
    "script": re.compile(r"[A-Za-z]{4}\Z"),
    "currency": re.compile(r"[A-Za-z]{3}\Z"),
    "calendar": re.compile(r"[A-Za-z0-9]{3,8}(?:-[A-Za-z0-9]{3,8})*\Z"),
}


_FIELDS = {"era": "ERA", "year": "YEAR", "quarter": "QUARTER", "month": "MONTH", "weekOfYear": "WEEK_OF_YEAR",
           "weekday": "WEEKDAY", "day": "DAY", "dayPeriod": "DAYPERIOD", "hour": "HOUR", "minute": "MINUTE",
           "second": "SECOND", "timeZoneName": "ZONE"}  # fmt: skip


class Names:
    __slots__ = ("fallback", "kind", "loc", "names", "resolved")

    def __init__(self, names: Any, kind: str, fallback: str, resolved: dict[str, Any], loc: Any) -> None:
        self.names, self.kind, self.fallback, self.resolved, self.loc = names, kind, fallback, resolved, loc

    def of(self, code: Any) -> str | None:
        c = str(code)
        k = self.kind
        if k == "dateTimeField":
            if c not in _FIELDS:
                raise L.range_error("invalid_argument")
            field = getattr(icu.UDateTimePatternField, _FIELDS[c] + "_FIELD")
            return str(icu.DateTimePatternGenerator.createInstance(self.loc).getAppendItemName(field))
        if k == "language":
            if not L.well_formed(c) or "-u-" in c.lower() or "-x-" in c.lower():
                raise L.range_error("invalid_argument")
            c = L.canonical(c)
            out = str(self.names.localeDisplayName(icu.Locale.forLanguageTag(c).getName()))
        elif k in _CODE:
            if not _CODE[k].match(c):
                raise L.range_error("invalid_argument")
            if k == "region":
                c = c.upper()
                out = str(self.names.regionDisplayName(c))
            elif k == "script":
                c = c[0].upper() + c[1:].lower()
                out = str(self.names.scriptDisplayName(c))
            elif k == "currency":
                c = c.upper()
                out = str(self.names.keyValueDisplayName("currency", c.lower()))
                out = c if out.lower() == c.lower() else out
            else:
                c = c.lower()
                out = str(self.names.keyValueDisplayName("calendar", "gregorian" if c == "gregory" else c))
        else:
            raise L.range_error("invalid_argument")
        if out == c or not out:
            return c if self.fallback == "code" else None
        return out


@lru_cache(maxsize=L.CACHE)
def display_names(locales: Any, opts_json: Any) -> Names:
    S = "Intl.DisplayNames"
    o = L.options(opts_json)
    L.pick(o, S, "localeMatcher", ("lookup", "best fit"))
    r = L.resolve(locales, {}, {})
    style = L.pick(o, S, "style", ("narrow", "short", "long"), "long")
    kind = L.pick(o, S, "type", ("language", "region", "script", "currency", "calendar", "dateTimeField"))
    if kind is None:
        raise L.type_error("Required option type is missing")
    fallback = L.pick(o, S, "fallback", ("code", "none"), "code")
    dialect = L.pick(o, S, "languageDisplay", ("dialect", "standard"), "dialect")
    ctx = [icu.UDisplayContext.LENGTH_FULL if style == "long" else icu.UDisplayContext.LENGTH_SHORT]
    ctx.append(icu.UDisplayContext.DIALECT_NAMES if dialect == "dialect" else icu.UDisplayContext.STANDARD_NAMES)
    names = icu.LocaleDisplayNames.createInstance(r.icu, ctx)
    resolved: dict[str, Any] = {"locale": r.tag, "style": style, "type": kind, "fallback": fallback}
    if kind == "language":
        resolved["languageDisplay"] = dialect
    return Names(names, kind, fallback, resolved, r.icu)


# ---- Locale ---------------------------------------------------------------------------------------

_LOCALE_KEYS = (("calendar", "ca"), ("collation", "co"), ("hourCycle", "hc"), ("caseFirst", "kf"), ("numeric", "kn"), ("numberingSystem", "nu"))  # fmt: skip


def locale_info(tag: Any, opts_json: Any, op: Any = None) -> dict[str, Any]:
    """new Intl.Locale(tag, options) (and maximize/minimize): the canonical tag and its parts."""
    if not isinstance(tag, str):
        raise L.type_error("First argument to Intl.Locale constructor can't be empty or missing")
    if not tag:
        raise L.range_error("First argument to Intl.Locale constructor can't be empty or missing")
    o = L.options(opts_json)
    tag = L.canonical(tag)
    base, keys = L._split_u(tag)
    loc = icu.Locale.forLanguageTag(base)
    lang, script, region = str(loc.getLanguage()) or "und", str(loc.getScript()), str(loc.getCountry())
    for name, pattern in (("language", r"(?:[a-z]{2,3}|[a-z]{5,8})\Z"), ("script", r"[a-z]{4}\Z"), ("region", r"(?:[a-z]{2}|[0-9]{3})\Z")):  # fmt: skip
        v = o.get(name)
        if v is not None:
            if not re.fullmatch(pattern, str(v), re.I):
                raise L.range_error("Incorrect locale information provided")
            v = str(v)
            if name == "language":
                lang = v.lower()
            elif name == "script":
                script = v[0].upper() + v[1:].lower()
            else:
                region = v.upper()
    variants = base.split("-")[1 + bool(loc.getScript()) + bool(loc.getCountry()) :]
    for name, key in _LOCALE_KEYS:
        v = o.get(name)
        if v is None:
            continue
        v = ("true" if v else "false") if isinstance(v, bool) else str(v)
        if key in ("hc", "kf"):
            allowed = ("h11", "h12", "h23", "h24") if key == "hc" else ("upper", "lower", "false")
            if v not in allowed:
                raise L.range_error(f"Value {v[:100]} out of range for locale options property {name}")
        elif key != "kn" and not re.fullmatch(r"[a-z0-9]{3,8}(?:-[a-z0-9]{3,8})*", v, re.I):
            raise L.range_error("Incorrect locale information provided")
        keys[key] = v.lower()
    core = "-".join([lang] + ([script] if script else []) + ([region] if region else []) + variants)
    if op in ("maximize", "minimize"):
        m = icu.Locale.forLanguageTag(core)
        if op == "maximize":
            m.addLikelySubtags()
        else:
            m.minimizeSubtags()
        core = str(m.toLanguageTag())
    ext = "".join(f"-{k}" + ("" if v in ("", "true") else f"-{v}") for k, v in sorted(keys.items()))
    full = L.canonical(core + ("-u" + ext if ext else ""))
    base2, keys2 = L._split_u(full)
    loc2 = icu.Locale.forLanguageTag(base2)
    info: dict[str, Any] = {"tag": full, "baseName": base2, "language": str(loc2.getLanguage()) or "und"}
    if loc2.getScript():
        info["script"] = str(loc2.getScript())
    if loc2.getCountry():
        info["region"] = str(loc2.getCountry())
    for name, key in _LOCALE_KEYS:
        if key in keys2:
            info[name] = (keys2[key] in ("", "true")) if key == "kn" else keys2[key]
    return info


# ---- case mapping ---------------------------------------------------------------------------------


def case(s: Any, tag: Any, upper: Any) -> str:
    """toLocaleUpperCase/toLocaleLowerCase for one (canonical) locale."""
    text = _text(s, "toLocaleUpperCase" if upper else "toLocaleLowerCase")
    loc = icu.Locale.forLanguageTag(str(tag))
    u = icu.UnicodeString(text)
    return str(u.toUpper(loc) if upper else u.toLower(loc))
