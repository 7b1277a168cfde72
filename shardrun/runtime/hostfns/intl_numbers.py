"""Intl.NumberFormat, Intl.PluralRules and Intl.RelativeTimeFormat on ICU: options -> an ICU number
skeleton (as V8 builds one) -> a LocalizedNumberFormatter."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

import icu

from shardrun.runtime.hostfns import intl_locale as L

NF = "Intl.NumberFormat"
MAX_DECIMAL = 1100  # characters of a numeric string or BigInt formatted exactly
_UNIT_NAMES = (
    "acre bit byte celsius centimeter day degree fahrenheit fluid-ounce foot gallon gigabit gigabyte gram hectare "
    "hour inch kilobit kilobyte kilogram kilometer liter megabit megabyte meter microsecond mile mile-scandinavian "
    "milliliter millimeter millisecond minute month nanosecond ounce percent petabyte pound second stone terabit "
    "terabyte week yard year"
)
_UNITS = frozenset(_UNIT_NAMES.split())
_INCREMENTS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000)
_MODES = {"ceil": "ceiling", "floor": "floor", "expand": "up", "trunc": "down", "halfCeil": "half-ceiling",
          "halfFloor": "half-floor", "halfExpand": "half-up", "halfTrunc": "half-down", "halfEven": "half-even"}  # fmt: skip
_SIGNS = {"auto": "", "never": "sign-never", "always": "sign-always", "exceptZero": "sign-except-zero", "negative": "sign-negative"}  # fmt: skip
_ACCOUNTING = {"auto": "sign-accounting", "never": "sign-never", "always": "sign-accounting-always",
               "exceptZero": "sign-accounting-except-zero", "negative": "sign-accounting-negative"}  # fmt: skip
_PART = ["integer", "fraction", "decimal", "exponentSeparator", "exponentMinusSign", "exponentInteger", "group",
         "currency", "percentSign", "perMille", "sign", "unit", "compact", "approximatelySign"]  # fmt: skip
_NUMERIC = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_RADIX = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)\Z")
_WS = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"  # fmt: skip


def digit_options(o: dict[str, Any], mnfd_default: int, mxfd_default: int, notation: str) -> dict[str, Any]:
    """SetNumberFormatDigitOptions (ECMA-402 15.1.3): the resolved digit fields, in resolvedOptions order."""
    mnid = L.number(o, "minimumIntegerDigits", 1, 21, 1)
    inc = L.number(o, "roundingIncrement", 1, 5000, 1)
    if inc not in _INCREMENTS:
        raise L.range_error("roundingIncrement value is out of range.")
    mode = L.pick(o, NF, "roundingMode", tuple(_MODES), "halfExpand")
    priority = L.pick(o, NF, "roundingPriority", ("auto", "morePrecision", "lessPrecision"), "auto")
    tzd = L.pick(o, NF, "trailingZeroDisplay", ("auto", "stripIfInteger"), "auto")
    if inc != 1:
        mxfd_default = mnfd_default
    has_sd = o.get("minimumSignificantDigits") is not None or o.get("maximumSignificantDigits") is not None
    has_fd = o.get("minimumFractionDigits") is not None or o.get("maximumFractionDigits") is not None
    need_sd = need_fd = True
    if priority == "auto":
        need_sd = has_sd
        if need_sd or (not has_fd and notation == "compact"):
            need_fd = False
    d: dict[str, Any] = {"minimumIntegerDigits": mnid}
    fd: dict[str, Any] = {}
    sd: dict[str, Any] = {}
    if need_sd:
        if has_sd:
            mnsd = L.number(o, "minimumSignificantDigits", 1, 21, 1)
            assert mnsd is not None
            sd = {"minimumSignificantDigits": mnsd, "maximumSignificantDigits": L.number(o, "maximumSignificantDigits", mnsd, 21, 21)}  # fmt: skip
        else:
            sd = {"minimumSignificantDigits": 1, "maximumSignificantDigits": 21}
    if need_fd:
        if has_fd:
            mnfd = L.number(o, "minimumFractionDigits", 0, 100, None)
            mxfd = L.number(o, "maximumFractionDigits", 0, 100, None)
            if mnfd is None:
                assert mxfd is not None
                mnfd = min(mnfd_default, mxfd)
            elif mxfd is None:
                mxfd = max(mxfd_default, mnfd)
            elif mnfd > mxfd:
                raise L.range_error("maximumFractionDigits value is out of range.")
            fd = {"minimumFractionDigits": mnfd, "maximumFractionDigits": mxfd}
        else:
            fd = {"minimumFractionDigits": mnfd_default, "maximumFractionDigits": mxfd_default}
    if not need_sd and not need_fd:
        fd = {"minimumFractionDigits": 0, "maximumFractionDigits": 0}
        sd = {"minimumSignificantDigits": 1, "maximumSignificantDigits": 2}
        rtype = computed = "morePrecision"
    elif priority == "auto":
        rtype, computed = ("significantDigits" if need_sd else "fractionDigits"), "auto"
        if need_sd:
            fd = {}
        else:
            sd = {}
    else:
        rtype = computed = priority
    if inc != 1:
        if rtype != "fractionDigits":
            raise L.type_error("Invalid roundingIncrement : roundingPriority must be auto")
        if fd["maximumFractionDigits"] != fd["minimumFractionDigits"]:
            raise L.range_error("maximumFractionDigits value is out of range.")
    d.update(fd)
    d.update(sd)
    d["_type"] = rtype
    d["_tail"] = {"roundingIncrement": inc, "roundingMode": mode, "roundingPriority": computed, "trailingZeroDisplay": tzd}  # fmt: skip
    return d


def precision_skeleton(d: dict[str, Any]) -> str:
    """The skeleton words for resolved digit options."""
    words = []
    if d["minimumIntegerDigits"] > 1:
        words.append("integer-width/*" + "0" * d["minimumIntegerDigits"])
    tail = d["_tail"]
    fd = ""
    if "minimumFractionDigits" in d:
        mn, mx = d["minimumFractionDigits"], d["maximumFractionDigits"]
        fd = "precision-integer" if mx == 0 else "." + "0" * mn + "#" * (mx - mn)
    sd = ""
    if "minimumSignificantDigits" in d:
        mn, mx = d["minimumSignificantDigits"], d["maximumSignificantDigits"]
        sd = "@" * mn + "#" * (mx - mn)
    rtype = d["_type"]
    if tail["roundingIncrement"] != 1:
        mx = d["maximumFractionDigits"]
        p = f"{tail['roundingIncrement'] / 10**mx:.{mx}f}"
        word = "precision-increment/" + p
    elif rtype == "significantDigits":
        word = sd
    elif rtype == "fractionDigits":
        word = fd
    else:
        word = (fd if fd != "precision-integer" else ".") + "/" + sd + ("r" if rtype == "morePrecision" else "s")
    if tail["trailingZeroDisplay"] == "stripIfInteger":
        word += "/w"
    words.append(word)
    words.append("rounding-mode-" + _MODES[tail["roundingMode"]])
    return " ".join(words)


@lru_cache(maxsize=256)
def currency_digits(code: str) -> int:
    return int(icu.NumberFormat.createCurrencyInstance(icu.Locale("en@currency=" + code)).getMaximumFractionDigits())


def _unit_ok(unit: str) -> bool:
    if unit in _UNITS:
        return True
    num, per, den = unit.partition("-per-")
    return bool(per) and num in _UNITS and den in _UNITS


class NumberFormat:
    """A resolved NumberFormat (or the number part of PluralRules): its ICU formatter and resolvedOptions()."""

    __slots__ = ("fmt", "loc", "ranges", "resolved", "skeleton")

    def __init__(self, fmt: Any, resolved: dict[str, Any], skeleton: str = "", loc: Any = None) -> None:
        self.fmt, self.resolved, self.skeleton, self.loc = fmt, resolved, skeleton, loc
        self.ranges: Any = None

    def range(self, x: Any, y: Any) -> str:
        """formatRange: ICU's range format ("$3.00 – $5.00", "~5" for equal ends)."""
        a, b = self._exact(x), self._exact(y)
        if "NaN" in (a, b):
            raise L.range_error("Invalid number range: NaN")
        if self.ranges is None:
            un = icu.NumberFormatter.forSkeleton(self.skeleton)
            approx = icu.UNumberRangeIdentityFallback.APPROXIMATELY
            self.ranges = (
                icu.NumberRangeFormatter.with_().numberFormatterBoth(un).identityFallback(approx).locale(self.loc)
            )
        try:
            return str(self.ranges.formatDoubleRange(float(a), float(b)))  # doubles: PyICU's decimal ranges fail
        except icu.ICUError:
            raise L.range_error("Invalid number range") from None

    def _exact(self, x: Any) -> str:
        if isinstance(x, float):
            return "NaN" if math.isnan(x) else repr(x).replace("inf", "Infinity")
        if isinstance(x, int) and not isinstance(x, bool):
            return str(x)
        if isinstance(x, str):
            return _numeric_string(x)
        raise L.type_error("Cannot convert to a number")

    def value(self, x: Any) -> icu.FormattedNumber:
        try:
            if isinstance(x, bool) or x is None:
                raise L.type_error("Cannot convert to a number")
            if isinstance(x, float):
                return self.fmt.formatDoubleToValue(x)
            if isinstance(x, int):
                if -(2**53) <= x <= 2**53:
                    return self.fmt.formatDoubleToValue(float(x))
                s = str(x)
            elif isinstance(x, str):
                s = _numeric_string(x)
            else:
                raise L.type_error("Cannot convert to a number")
            if len(s) > MAX_DECIMAL:
                raise L.range_error(f"Intl.NumberFormat: a number of more than {MAX_DECIMAL} characters")
            if s in ("NaN", "Infinity", "-Infinity"):
                return self.fmt.formatDoubleToValue(float(s.replace("Infinity", "inf")))
            if "e" in s.lower() and math.isinf(float(s)):  # past the doubles, as V8 does: +-Infinity
                return self.fmt.formatDoubleToValue(float(s))
            return self.fmt.formatDecimalToValue(s.encode("ascii"))
        except icu.ICUError:
            raise L.range_error("Invalid number") from None

    def format(self, x: Any) -> str:
        return str(self.value(x))

    def parts(self, x: Any) -> list[list[str]]:
        fv = self.value(x)
        text = str(fv)
        special = _special(x)
        return number_parts(fv, text, special)


def _special(x: Any) -> str | None:
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else "infinity"
    if isinstance(x, str):
        s = _numeric_string(x)
        return "nan" if s == "NaN" else "infinity" if "Infinity" in s else None
    return None


def number_parts(fv: Any, text: str, special: str | None = None) -> list[list[str]]:
    """formatToParts from ICU's field positions: the innermost field of each character, literals between."""
    spans: list[tuple[int, int, int]] = []
    cfp = icu.ConstrainedFieldPosition()
    cfp.constrainCategory(icu.UFieldCategory.NUMBER if hasattr(icu, "UFieldCategory") else 2)
    while fv.nextPosition(cfp):
        spans.append((cfp.getStart(), cfp.getLimit(), cfp.getField()))
    owner = [-1] * len(text)
    for k, (b, e, _) in sorted(enumerate(spans), key=lambda kv: kv[1][0] - kv[1][1]):
        for i in range(b, e):
            if owner[i] < 0 or (spans[owner[i]][1] - spans[owner[i]][0]) > e - b:
                owner[i] = k
    out: list[list[str]] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and owner[j] == owner[i]:
            j += 1
        k = owner[i]
        if k < 0:
            kind = "literal"
        else:
            field = spans[k][2]
            kind = _PART[field] if field < len(_PART) else "literal"
            if kind == "sign":
                kind = "plusSign" if text[i:j] == "+" else "minusSign"
            elif kind == "integer" and special:
                kind = special
        out.append([kind, text[i:j]])
        i = j
    return out


def _numeric_string(x: str) -> str:
    """StringToNumber's grammar, kept exact: a decimal string, NaN, Infinity or -Infinity."""
    s = x.strip(_WS)
    if s == "":
        return "0"
    if s in ("Infinity", "+Infinity", "-Infinity"):
        return s.lstrip("+")
    if len(s) > MAX_DECIMAL:
        raise L.range_error(f"Intl.NumberFormat: a number of more than {MAX_DECIMAL} characters")
    if _RADIX.match(s):
        return str(int(s, 0))
    return s if _NUMERIC.match(s) else "NaN"


@lru_cache(maxsize=L.CACHE)
def build(locales: Any, opts_json: Any) -> NumberFormat:
    """CreateNumberFormat (ECMA-402 15.1.2)."""
    o = L.options(opts_json)
    L.pick(o, NF, "localeMatcher", ("lookup", "best fit"))
    nu = L.unicode_type(o, "numberingSystem", "numberingSystem")
    r = L.resolve(locales, {"nu": lambda v: v in L.numbering_systems()}, {"nu": nu})
    style = L.pick(o, NF, "style", ("decimal", "percent", "currency", "unit"), "decimal")
    currency = o.get("currency")
    if currency is not None:
        currency = str(currency)
        if not re.fullmatch(r"[A-Za-z]{3}", currency):
            raise L.range_error(f"Invalid currency code : {currency[:100]}")
        currency = currency.upper()
    cdisplay = L.pick(o, NF, "currencyDisplay", ("code", "symbol", "narrowSymbol", "name"), "symbol")
    csign = L.pick(o, NF, "currencySign", ("standard", "accounting"), "standard")
    unit = o.get("unit")
    if unit is not None:
        unit = str(unit)
        if not _unit_ok(unit):
            raise L.range_error(f"Invalid unit argument for Intl.NumberFormat() '{unit[:100]}'")
    udisplay = L.pick(o, NF, "unitDisplay", ("short", "narrow", "long"), "short")
    if style == "currency" and currency is None:
        raise L.type_error("Currency code is required with currency style.")
    if style == "unit" and unit is None:
        raise L.type_error("Invalid unit argument for Intl.NumberFormat() ''")
    notation = L.pick(o, NF, "notation", ("standard", "scientific", "engineering", "compact"), "standard")
    if style == "currency" and notation == "standard":
        cd = currency_digits(currency)
        mnfd, mxfd = cd, cd
    else:
        mnfd, mxfd = 0, (0 if style == "percent" else 3)
    digits = digit_options(o, mnfd, mxfd, notation)
    compact = L.pick(o, NF, "compactDisplay", ("short", "long"), "short")
    grouping_default = "min2" if notation == "compact" else "auto"
    g = o.get("useGrouping")
    if g is None:
        grouping: str | bool = grouping_default
    elif isinstance(g, bool):
        grouping = "always" if g else False
    elif g in ("always", "auto", "min2"):
        grouping = g
    elif g in ("true", "false"):
        grouping = grouping_default
    elif g == "":
        grouping = False
    else:
        raise L.range_error(f"Value {str(g)[:100]} out of range for Intl.NumberFormat options property useGrouping")
    sign = L.pick(o, NF, "signDisplay", tuple(_SIGNS), "auto")

    words = []
    if style == "percent":
        words.append("percent scale/100")
    elif style == "currency" and currency is not None:
        words.append("currency/" + currency)
        words.append({"code": "unit-width-iso-code", "symbol": "", "narrowSymbol": "unit-width-narrow", "name": "unit-width-full-name"}[cdisplay])  # fmt: skip
    elif style == "unit" and unit is not None:
        words.append("unit/" + unit)
        words.append({"short": "unit-width-short", "narrow": "unit-width-narrow", "long": "unit-width-full-name"}[udisplay])  # fmt: skip
    if notation == "scientific":
        words.append("scientific")
    elif notation == "engineering":
        words.append("engineering")
    elif notation == "compact":
        words.append("compact-long" if compact == "long" else "compact-short")
    words.append(precision_skeleton(digits))
    words.append({"always": "group-on-aligned", "auto": "group-auto", "min2": "group-min2", False: "group-off"}[grouping])  # fmt: skip
    words.append(_ACCOUNTING[sign] if style == "currency" and csign == "accounting" else _SIGNS[sign])
    skeleton = " ".join(w for w in words if w)
    try:
        fmt = icu.NumberFormatter.forSkeleton(skeleton).locale(r.icu)
    except icu.ICUError:
        raise L.range_error(f"Intl.NumberFormat: options ICU cannot format ({skeleton})") from None
    resolved: dict[str, Any] = {"locale": r.tag, "numberingSystem": L.numbering_of(r.icu), "style": style}
    if style == "currency":
        resolved.update(currency=currency, currencyDisplay=cdisplay, currencySign=csign)
    if style == "unit":
        resolved.update(unit=unit, unitDisplay=udisplay)
    resolved.update({k: v for k, v in digits.items() if not k.startswith("_")})
    resolved["useGrouping"] = grouping
    resolved["notation"] = notation
    if notation == "compact":
        resolved["compactDisplay"] = compact
    resolved["signDisplay"] = sign
    resolved.update(digits["_tail"])
    return NumberFormat(fmt, resolved, skeleton, r.icu)
