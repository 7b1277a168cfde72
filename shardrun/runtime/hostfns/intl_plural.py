"""Intl.PluralRules and Intl.RelativeTimeFormat on ICU (their numbers go through intl_numbers)."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import icu

from shardrun.runtime.hostfns import intl_locale as L
from shardrun.runtime.hostfns.intl_numbers import NumberFormat, digit_options, number_parts, precision_skeleton

# ---- PluralRules ---------------------------------------------------------------------------------

_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


_SELECT = (
    "{0,selectordinal," + " ".join(c + "{" + c + "}" for c in ("zero", "one", "two", "few", "many", "other")) + "}"
)


class _Ordinal:
    """Ordinal plural rules: PyICU has no UPLURAL_TYPE_ORDINAL, but MessageFormat's selectordinal uses them."""

    def __init__(self, loc: icu.Locale) -> None:
        self.msg = icu.MessageFormat(_SELECT, loc)

    def select(self, fv: Any) -> str:
        return str(self.msg.format([icu.Formattable(float(str(fv).replace(",", "") or 0))]))

    def getKeywords(self) -> set[str]:
        return {self.select(n) for n in (*range(200), 1000, 10000, 100000, 1000000)}


class Plural:
    __slots__ = ("nf", "resolved", "rules")

    def __init__(self, rules: Any, nf: NumberFormat, resolved: dict[str, Any]) -> None:
        self.rules, self.nf, self.resolved = rules, nf, resolved

    def select(self, n: Any) -> str:
        if isinstance(n, float) and not math.isfinite(n):
            return "other"
        return str(self.rules.select(self.nf.value(n)))


@lru_cache(maxsize=L.CACHE)
def plural(locales: Any, opts_json: Any) -> Plural:
    """CreatePluralRules (ECMA-402 16.1.2)."""
    o = L.options(opts_json)
    L.pick(o, "Intl.PluralRules", "localeMatcher", ("lookup", "best fit"))
    kind = L.pick(o, "Intl.PluralRules", "type", ("cardinal", "ordinal"), "cardinal")
    notation = L.pick(o, "Intl.PluralRules", "notation", ("standard", "scientific", "engineering", "compact"), "standard")  # fmt: skip
    digits = digit_options(o, 0, 3, notation)
    r = L.resolve(locales, {}, {}, "plural")
    rules = _Ordinal(r.icu) if kind == "ordinal" else icu.PluralRules.forLocale(r.icu)
    words = [precision_skeleton(digits), "group-off"]
    if notation != "standard":
        words.insert(
            0, {"scientific": "scientific", "engineering": "engineering", "compact": "compact-short"}[notation]
        )
    nf = NumberFormat(icu.NumberFormatter.forSkeleton(" ".join(words)).locale(icu.Locale(r.icu.getBaseName())), {})
    keys = set(rules.getKeywords())
    resolved: dict[str, Any] = {"locale": r.tag, "type": kind, "notation": notation}
    resolved.update({k: v for k, v in digits.items() if not k.startswith("_")})
    resolved["pluralCategories"] = [c for c in _CATEGORIES if c in keys]
    resolved.update(digits["_tail"])
    return Plural(rules, nf, resolved)


# ---- RelativeTimeFormat ---------------------------------------------------------------------------

_ABSOLUTE = {"QUARTER": 12, "HOUR": 13, "MINUTE": 14}  # UDAT_ABSOLUTE_*: ICU has them, PyICU's enum does not
_RT_UNITS = ("year", "quarter", "month", "week", "day", "hour", "minute", "second")
RTF = "Intl.RelativeTimeFormat"


class Relative:
    __slots__ = ("fmt", "numeric", "resolved")

    def __init__(self, fmt: icu.RelativeDateTimeFormatter, numeric: str, resolved: dict[str, Any]) -> None:
        self.fmt, self.numeric, self.resolved = fmt, numeric, resolved

    def value(self, v: Any, unit: Any) -> tuple[Any, str]:
        u = str(unit)
        single = u[:-1] if u.endswith("s") else u
        if single not in _RT_UNITS:
            raise L.range_error(f"Invalid unit argument for {RTF}.prototype.format() '{u[:100]}'")
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise L.range_error(f"Value need to be finite number for {RTF}.prototype.format()")
        if self.numeric == "auto":
            phrase = self._phrase(float(v), single)
            if phrase is not None:
                return phrase, single
        return self.fmt.formatNumericToValue(float(v), getattr(icu.URelativeDateTimeUnit, single.upper())), single

    def _phrase(self, v: float, unit: str) -> Any:
        """numeric: "auto": ICU's words for -2..2 (yesterday, now, next week...) where it has them."""
        direction = {-2.0: "LAST_2", -1.0: "LAST", 0.0: "THIS", 1.0: "NEXT", 2.0: "NEXT_2"}.get(v)
        if direction is None or (direction.endswith("_2") and unit != "day"):
            return None
        absolute = unit.upper()
        if unit == "second":
            if direction != "THIS":
                return None
            absolute, direction = "NOW", "PLAIN"
        unit_id = _ABSOLUTE.get(absolute)
        if unit_id is None:
            unit_id = getattr(icu.UDateAbsoluteUnit, absolute)
        fv = self.fmt.formatToValue(getattr(icu.UDateDirection, direction), unit_id)
        return fv if str(fv) else None

    def format(self, v: Any, unit: Any) -> str:
        return str(self.value(v, unit)[0])

    def parts(self, v: Any, unit: Any) -> list[list[str]]:
        fv, single = self.value(v, unit)
        out = []
        for kind, text in number_parts(fv, str(fv)):
            out.append([kind, text] if kind == "literal" else [kind, text, single])
        return out


@lru_cache(maxsize=L.CACHE)
def relative(locales: Any, opts_json: Any) -> Relative:
    """CreateRelativeTimeFormat (ECMA-402 17.1.2)."""
    o = L.options(opts_json)
    L.pick(o, RTF, "localeMatcher", ("lookup", "best fit"))
    nu = L.unicode_type(o, "numberingSystem", "numberingSystem")
    r = L.resolve(locales, {"nu": lambda v: v in L.numbering_systems()}, {"nu": nu})
    style = L.pick(o, RTF, "style", ("long", "short", "narrow"), "long")
    numeric = L.pick(o, RTF, "numeric", ("always", "auto"), "always")
    istyle = {"long": 0, "short": 1, "narrow": 2}[style]
    ctx = icu.UDisplayContext.CAPITALIZATION_NONE
    fmt = icu.RelativeDateTimeFormatter(r.icu, icu.NumberFormat.createInstance(r.icu), istyle, ctx)
    resolved = {"locale": r.tag, "style": style, "numeric": numeric, "numberingSystem": L.numbering_of(r.icu)}
    return Relative(fmt, numeric, resolved)
