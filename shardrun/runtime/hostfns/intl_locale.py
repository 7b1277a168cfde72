"""Intl on the host (ICU, through PyICU): locales, option checks and time zones shared by the services.

Everything here checks tenant input: locale tags (BCP 47 `unicode_locale_id`, length caps), option
values (the sets ECMA-402 allows, V8's messages) and time zone names. A refusal is a HostCallError
with code E_INTL_RANGE or E_INTL_TYPE, which the intl chunk (js/src/intl.js) throws as a RangeError or
TypeError with the same message. ICU objects that do not change once made (number formatters,
collators, plural rules, date patterns) are cached per process by their resolved options: no tenant
can change what another one gets from them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any

import icu
import orjson

from shardrun.runtime.hostcall import HostCallError

DEFAULT_LOCALE = "en-US"  # workerd's
DEFAULT_TIME_ZONE = "UTC"
MAX_TAG = 255  # characters in one locale tag
MAX_TAGS = 64  # tags in one locale list
MAX_OPTIONS = 4096  # bytes of one options object's JSON
CACHE = 256  # ICU objects kept per kind and process (a date formatter is ~70 KB with its data)


def range_error(message: str) -> HostCallError:
    return HostCallError(message, "E_INTL_RANGE")


def type_error(message: str) -> HostCallError:
    return HostCallError(message, "E_INTL_TYPE")


# ---- locale tags --------------------------------------------------------------------------------

_ALNUM = re.compile(r"[a-z0-9]+\Z")
_LANGUAGE = re.compile(r"(?:[a-z]{2,3}|[a-z]{5,8})\Z")
_SCRIPT = re.compile(r"[a-z]{4}\Z")
_REGION = re.compile(r"(?:[a-z]{2}|[0-9]{3})\Z")
_VARIANT = re.compile(r"(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3})\Z")
_TYPE = re.compile(r"[a-z0-9]{3,8}(?:-[a-z0-9]{3,8})*\Z")


def well_formed(tag: str) -> bool:
    """Whether `tag` is a BCP 47 unicode_locale_id as ECMA-402 accepts it (IsStructurallyValidLanguageTag)."""
    if not tag or len(tag) > MAX_TAG or not tag.isascii():
        return False
    parts = tag.lower().split("-")
    if not _LANGUAGE.match(parts[0]) or parts[0] == "root":
        return False
    i, n = 1, len(parts)
    if i < n and _SCRIPT.match(parts[i]):
        i += 1
    if i < n and _REGION.match(parts[i]):
        i += 1
    variants: set[str] = set()
    while i < n and _VARIANT.match(parts[i]):
        if parts[i] in variants:
            return False
        variants.add(parts[i])
        i += 1
    singletons: set[str] = set()
    while i < n:
        s = parts[i]
        if len(s) != 1 or not _ALNUM.match(s) or s in singletons:
            return False
        singletons.add(s)
        i += 1
        start = i
        lo, hi = (1, 8) if s == "x" else (2, 8)
        while i < n and (s == "x" or len(parts[i]) > 1) and lo <= len(parts[i]) <= hi and _ALNUM.match(parts[i]):
            i += 1
        if i == start:
            return False
        if s == "x" and i != n:
            return False
    return True


@lru_cache(maxsize=CACHE)
def canonical(tag: str) -> str:
    """The canonical form of one well-formed tag (ICU's UTS 35 canonicalisation); RangeError otherwise."""
    if not well_formed(tag):
        raise range_error(f"Invalid language tag: {tag[:1000]}")
    out = icu.Locale.createCanonical(icu.Locale.forLanguageTag(tag).getName()).toLanguageTag()
    if not out or (out == "und" and not tag.lower().startswith("und")):
        raise range_error(f"Invalid language tag: {tag}")
    return str(out)


def locale_list(locales: Any) -> list[str]:
    """CanonicalizeLocaleList over the JSON list of tags the chunk passes (it has checked each is a string)."""
    if locales is None:
        return []
    tags = orjson.loads(locales) if isinstance(locales, str) and len(locales) <= MAX_TAGS * (MAX_TAG + 3) else None
    if not isinstance(tags, list) or len(tags) > MAX_TAGS or not all(isinstance(t, str) for t in tags):
        raise range_error(f"Incorrect locale information provided: at most {MAX_TAGS} tags of {MAX_TAG} characters")
    seen: list[str] = []
    for t in tags:
        c = canonical(t)
        if c not in seen:
            seen.append(c)
    return seen


@cache
def available(kind: str = "all") -> frozenset[str]:
    """The locales ICU has data for, as BCP 47 tags (plus zh-TW-style forms without the likely script):
    per service as V8 has them: "collator" (ICU's collation locales), "plural" (plural rules are per
    language, and pt-PT), or "all"."""
    if kind == "plural":
        return frozenset({t.split("-")[0] for t in available()} | {"pt-PT"})
    names = icu.Collator.getAvailableLocales() if kind == "collator" else icu.Locale.getAvailableLocales()
    out: set[str] = set()
    for name in names:
        loc = icu.Locale(name)
        out.add(str(loc.toLanguageTag()))
        if loc.getScript() and loc.getCountry():
            bare = icu.Locale(f"{loc.getLanguage()}_{loc.getCountry()}")
            full = icu.Locale(bare.getName())
            full.addLikelySubtags()
            if full.getName() == loc.getName():
                out.add(str(bare.toLanguageTag()))
    return frozenset(out)


SERVICES = {"Collator": "collator", "PluralRules": "plural"}  # the others use "all"


def _split_u(tag: str) -> tuple[str, dict[str, str]]:
    """A canonical tag's base (without extensions) and its -u- keywords."""
    parts = tag.split("-")
    base: list[str] = []
    i = 0
    while i < len(parts) and len(parts[i]) != 1:
        base.append(parts[i])
        i += 1
    keys: dict[str, str] = {}
    while i < len(parts):
        single = parts[i]
        i += 1
        if single == "x":
            break
        key = ""
        while i < len(parts) and len(parts[i]) != 1:
            p = parts[i]
            i += 1
            if single != "u":
                continue
            if len(p) == 2:
                key = p
                keys.setdefault(key, "")
            elif key and key in keys:
                keys[key] = p if not keys[key] else keys[key] + "-" + p
    return "-".join(base), keys


def _lookup(base: str, kind: str = "all") -> str | None:
    avail = available(kind)
    cand = base
    while cand:
        if cand in avail:
            return cand
        cut = cand.rfind("-")
        if cut < 0:
            return None
        cand = cand[:cut]
        if len(cand) >= 2 and cand[-2] == "-":
            cand = cand[:-2]
    return None


def supported(locales: Any, service: Any = None) -> list[str]:
    """SupportedLocales: the requested tags that have data for the service (with their extensions)."""
    kind = SERVICES.get(service, "all") if isinstance(service, str) else "all"
    return [t for t in locale_list(locales) if _lookup(_split_u(t)[0], kind) is not None]


class Resolved:
    """What ResolveLocale gives a service: the locale string, the ICU locale, the extension values used."""

    __slots__ = ("icu", "keys", "tag")

    def __init__(self, tag: str, keys: dict[str, str], icu_locale: icu.Locale) -> None:
        self.tag, self.keys, self.icu = tag, keys, icu_locale


_ICU_KEYS = {
    "ca": "calendar",
    "nu": "numbers",
    "co": "collation",
    "hc": "hours",
    "kn": "colnumeric",
    "kf": "colcasefirst",
}


def resolve(locales: Any, relevant: dict[str, Any], options: dict[str, str | None], kind: str = "all") -> Resolved:
    """ResolveLocale: the first requested locale with data (else en-US), keeping the -u- keywords in
    `relevant` (key -> a predicate on values) that are valid and not overridden by `options`."""
    found: tuple[str, dict[str, str]] | None = None
    for tag in locale_list(locales):
        base, ext = _split_u(tag)
        hit = _lookup(base, kind)
        if hit is not None:
            found = (hit, ext)
            break
    base, requested = found if found else (DEFAULT_LOCALE, {})
    keys: dict[str, str] = {}
    shown: list[str] = []
    for key, ok in relevant.items():
        value = requested.get(key)
        if key == "kn" and value == "":
            value = "true"
        if value is not None and not ok(value):
            value = None
        opt = options.get(key)
        if opt is not None and (ok(opt) or key in ("kn", "kf")):
            if value is not None and opt != value:
                value = None
            if value is None:
                keys[key] = opt
                continue
        if value is not None:
            keys[key] = value
            shown.append(key + ("" if key == "kn" and value == "true" else "-" + value))
    tag = base + ("-u-" + "-".join(shown) if shown else "")
    name = icu.Locale.forLanguageTag(base).getName()
    icu_keys = ";".join(f"{_ICU_KEYS[k]}={_icu_value(k, v)}" for k, v in keys.items() if k in _ICU_KEYS)
    return Resolved(tag, keys, icu.Locale(name + ("@" + icu_keys if icu_keys else "")))


def _icu_value(key: str, value: str) -> str:
    if key == "ca":
        return {"gregory": "gregorian", "ethioaa": "ethiopic-amete-alem", "islamicc": "islamic-civil"}.get(value, value)
    if key == "kn":
        return "yes" if value == "true" else "no"
    if key == "co":
        return COLLATIONS_ICU.get(value, value)
    return value


# BCP 47 collation types <-> ICU's keyword values
COLLATIONS_ICU = {"phonebk": "phonebook", "trad": "traditional", "dict": "dictionary", "gb2312": "gb2312han"}
COLLATIONS_BCP = {v: k for k, v in COLLATIONS_ICU.items()}
COLLATIONS_HIDDEN = frozenset({"standard", "search", "big5han", "gb2312", "dict", "phonetic"})  # V8 does not offer them


# ---- options --------------------------------------------------------------------------------------


def options(opts: Any) -> dict[str, Any]:
    """The options object as the chunk passed it: JSON of strings, booleans, numbers or null."""
    if opts is None:
        return {}
    if not isinstance(opts, str) or len(opts) > MAX_OPTIONS:
        raise type_error("Intl options: too large")
    d = orjson.loads(opts)
    if not isinstance(d, dict) or not all(isinstance(v, str | bool | int | float) or v is None for v in d.values()):
        raise type_error("Intl options: not an options object")
    return d


def pick(opts: dict[str, Any], service: str, name: str, allowed: Iterable[str], default: Any = None) -> Any:
    """GetOption for a string option with a fixed set of values."""
    v = opts.get(name)
    if v is None:
        return default
    v = str(v) if not isinstance(v, bool) else ("true" if v else "false")
    if v not in allowed:
        raise range_error(f"Value {v[:100]} out of range for {service} options property {name}")
    return v


def flag(opts: dict[str, Any], name: str, default: bool | None = None) -> bool | None:
    v = opts.get(name)
    return default if v is None else bool(v)


def number(opts: dict[str, Any], name: str, lo: int, hi: int, default: int | None) -> int | None:
    """DefaultNumberOption: an integer in [lo, hi] (the chunk applied ToNumber)."""
    v = opts.get(name)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v) or not lo <= v <= hi:
        raise range_error(f"{name} value is out of range.")
    return math.floor(v)


_UNICODE_TYPE = re.compile(r"[A-Za-z0-9]{3,8}(?:-[A-Za-z0-9]{3,8})*\Z")


def unicode_type(opts: dict[str, Any], name: str, what: str) -> str | None:
    """An option that must be a Unicode `type` (calendar, numberingSystem, collation)."""
    v = opts.get(name)
    if v is None:
        return None
    v = str(v)
    if not _UNICODE_TYPE.match(v):
        raise range_error(f"Invalid {what} : {v[:100]}")
    return v.lower()


@cache
def numbering_systems() -> frozenset[str]:
    names = {str(n) for n in icu.NumberingSystem.getAvailableNames()}
    return frozenset(n for n in names if not icu.NumberingSystem.createInstanceByName(n).isAlgorithmic())


_CALENDAR_NAMES = (
    "buddhist chinese coptic dangi ethioaa ethiopic gregory hebrew indian islamic islamic-civil islamic-rgsa "
    "islamic-tbla islamic-umalqura iso8601 japanese persian roc"
)
CALENDARS = tuple(_CALENDAR_NAMES.split())


def numbering_of(loc: icu.Locale) -> str:
    return str(icu.NumberingSystem.createInstance(loc).getName())


# ---- time values and time zones ---------------------------------------------------------------------

MAX_TIME = 8.64e15


def time_value(t: Any) -> float:
    """A time value from the chunk (it applied ToNumber and TimeClip's range check); ICU wants seconds."""
    if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or abs(t) > MAX_TIME:
        raise range_error("Invalid time value")
    return math.trunc(t) / 1000.0


_AREAS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Arctic/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)
_UTC = {"utc", "etc/utc", "etc/gmt", "gmt", "etc/uct", "uct", "etc/universal", "universal", "etc/zulu", "zulu", "etc/greenwich", "greenwich", "gmt0", "etc/gmt0", "gmt+0", "gmt-0", "etc/gmt+0", "etc/gmt-0"}  # fmt: skip
_OFFSET = re.compile(r"([+-])([01][0-9]|2[0-3])(?::?([0-5][0-9]))?\Z")


@cache
def _zone_names() -> dict[str, str]:
    """Lower-case name -> the name as ICU spells it, for every zone ICU knows."""
    return {str(z).lower(): str(z) for z in icu.TimeZone.createEnumeration()}


def _cldr_name(spelled: str) -> str:
    """The CLDR canonical name of a zone (what V8 reports: Asia/Calcutta for Asia/Kolkata). PyICU has no
    getCanonicalID; CLDR's windowsZones table names the canonical zone of each (Windows zone, region), so a
    member of the zone's link group found there is it. Otherwise the name itself, or the group's Area/City name."""
    tz = icu.TimeZone
    group = [str(tz.getEquivalentID(spelled, i)) for i in range(tz.countEquivalentIDs(spelled))]
    windows = tz.getWindowsID(spelled)
    if windows:
        found = tz.getIDForWindowsID(windows, tz.getRegion(spelled))
        if found and str(found) in group:
            return str(found)
    if spelled.startswith(_AREAS) or spelled.startswith("Etc/"):
        return spelled
    return next((g for g in group if g.startswith(_AREAS)), spelled)


@lru_cache(maxsize=CACHE)
def time_zone(name: str) -> tuple[str, icu.TimeZone]:
    """The canonical name V8 reports and the ICU zone; RangeError for a name no zone has."""
    if not isinstance(name, str) or len(name) > 64:
        raise range_error("Invalid time zone specified")
    m = _OFFSET.match(name)
    if m:
        sign, hh, mm = m.group(1), m.group(2), m.group(3) or "00"
        return f"{sign}{hh}:{mm}", icu.TimeZone.createTimeZone(f"GMT{sign}{hh}:{mm}")
    lower = name.lower()
    if lower in _UTC:
        return "UTC", icu.TimeZone.createTimeZone("UTC")
    spelled = _zone_names().get(lower)
    if spelled is None or lower.startswith("systemv/"):
        raise range_error(f"Invalid time zone specified: {name}")
    canon = _cldr_name(spelled)
    if canon.lower() in _UTC:
        canon = "UTC"
    return canon, icu.TimeZone.createTimeZone(spelled)
