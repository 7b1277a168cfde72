"""Intl's host functions (the intl chunk, js/src/intl.js, calls them): ICU through PyICU.

A constructor (`intl.dtf`, `intl.nf`, ...) takes the locale list and the options as JSON text the
chunk built, resolves them once (cached per process: the ICU objects do not change after), and
returns [handle, resolvedOptions]; the methods take that handle. The `*_once` functions serve
`toLocaleString` and friends without a handle. Modules: intl_locale (tags, options, time zones),
intl_dates, intl_numbers (NumberFormat), intl_plural (PluralRules, RelativeTimeFormat), intl_text (the rest).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import icu

from shardrun.runtime.hostcall import HostFn, HostState
from shardrun.runtime.hostfns import intl_dates as D
from shardrun.runtime.hostfns import intl_locale as L
from shardrun.runtime.hostfns import intl_numbers as N
from shardrun.runtime.hostfns import intl_plural as P
from shardrun.runtime.hostfns import intl_text as T


def _ctor(build: Callable[[Any, Any], Any]) -> HostFn:
    def make(state: HostState, locales: Any, opts: Any) -> list[Any]:
        obj = build(locales, opts)
        return [state.put(obj, shared=True), obj.resolved]

    return make


def _method(kind: type, name: str) -> HostFn:
    def call(state: HostState, handle: Any, *args: Any) -> Any:
        return getattr(state.get(handle, kind), name)(*args)

    return call


def dtf(state: HostState, locales: Any, opts: Any, required: Any = "any", defaults: Any = "date") -> list[Any]:
    """new Intl.DateTimeFormat: [handle, resolvedOptions]."""
    fmt = D.build(locales, opts, _kind(required), _kind(defaults))
    return [state.put(fmt, shared=True), fmt.resolved]


def _kind(v: Any) -> str:
    if v not in ("date", "time", "any", "all"):
        raise L.type_error("Intl: bad date option kind")
    return str(v)


def date_once(state: HostState, locales: Any, opts: Any, required: Any, defaults: Any, t: Any) -> str:
    """Date.prototype.toLocale{,Date,Time}String."""
    return D.build(locales, opts, _kind(required), _kind(defaults)).format(t)


def number_once(state: HostState, locales: Any, opts: Any, x: Any) -> str:
    """Number.prototype.toLocaleString and BigInt.prototype.toLocaleString."""
    return N.build(locales, opts).format(x)


def compare_once(state: HostState, locales: Any, opts: Any, a: Any, b: Any) -> int:
    """String.prototype.localeCompare."""
    return T.collator(locales, opts).compare(a, b)


def canon(state: HostState, locales: Any) -> list[str]:
    """Intl.getCanonicalLocales."""
    return L.locale_list(locales)


def supported(state: HostState, locales: Any, service: Any = None) -> list[str]:
    """Intl.<service>.supportedLocalesOf."""
    return L.supported(locales, service)


def values(state: HostState, key: Any) -> list[str]:
    """Intl.supportedValuesOf."""
    if key == "calendar":
        return list(L.CALENDARS)
    if key == "numberingSystem":
        return sorted(L.numbering_systems())
    if key == "timeZone":
        return sorted({L.time_zone(z)[0] for z in L._zone_names().values() if "/" in z and not z.startswith(("Etc/", "SystemV/", "US/"))})  # fmt: skip
    if key == "currency":
        return sorted(_CURRENCIES)
    if key == "unit":
        return sorted(N._UNITS)
    if key == "collation":
        names = {L.COLLATIONS_BCP.get(str(c), str(c)) for c in icu.Collator.getKeywordValues("collation")}
        return sorted(names - L.COLLATIONS_HIDDEN)
    raise L.range_error(f"Invalid key : {str(key)[:100]}")


_CURRENCY_CODES = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL"  # fmt: skip
_CURRENCIES = frozenset(_CURRENCY_CODES.split())


def drop(state: HostState, handle: Any) -> None:
    """The JS object behind a handle was collected."""
    state.drop(handle)


def locale(state: HostState, tag: Any, opts: Any, op: Any = None) -> dict[str, Any]:
    """new Intl.Locale(tag, options); op "maximize" / "minimize" for those methods."""
    return T.locale_info(tag, opts, op)


def case(state: HostState, s: Any, locales: Any, upper: Any) -> str:
    """toLocaleUpperCase / toLocaleLowerCase: the first requested locale decides."""
    tags = L.locale_list(locales)
    return T.case(s, tags[0] if tags else L.DEFAULT_LOCALE, bool(upper))


FUNCS: dict[str, HostFn] = {
    "intl.canon": canon,
    "intl.supported": supported,
    "intl.values": values,
    "intl.drop": drop,
    "intl.dtf": dtf,
    "intl.dtf_format": _method(D.DateFormat, "format"),
    "intl.dtf_parts": _method(D.DateFormat, "parts"),
    "intl.date_once": date_once,
    "intl.nf": _ctor(N.build),
    "intl.nf_format": _method(N.NumberFormat, "format"),
    "intl.nf_parts": _method(N.NumberFormat, "parts"),
    "intl.nf_range": _method(N.NumberFormat, "range"),
    "intl.number_once": number_once,
    "intl.pr": _ctor(P.plural),
    "intl.pr_select": _method(P.Plural, "select"),
    "intl.rtf": _ctor(P.relative),
    "intl.rtf_format": _method(P.Relative, "format"),
    "intl.rtf_parts": _method(P.Relative, "parts"),
    "intl.coll": _ctor(T.collator),
    "intl.coll_compare": _method(T.Collation, "compare"),
    "intl.compare_once": compare_once,
    "intl.lf": _ctor(T.list_format),
    "intl.lf_format": _method(T.Lists, "format"),
    "intl.lf_parts": _method(T.Lists, "parts"),
    "intl.seg": _ctor(T.segmenter),
    "intl.seg_split": _method(T.Segments, "split"),
    "intl.dn": _ctor(T.display_names),
    "intl.dn_of": _method(T.Names, "of"),
    "intl.locale": locale,
    "intl.case": case,
}
