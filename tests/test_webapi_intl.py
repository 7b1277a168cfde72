"""Intl (js/src/intl.js over shardrun/runtime/hostfns/intl*.py, ICU through PyICU): each API's spec
behaviour, the errors ECMA-402 and V8 give for bad input, the toLocale* methods, and the host side's
own checks. Expected strings are what workerd (V8 + ICU) answers for the same calls."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shardrun.runtime.hostcall import HostCallError, HostState
from shardrun.runtime.hostfns import intl_locale as L

from .conftest import ROOT, eval_js

AT = "Date.UTC(2024, 2, 10, 6, 30, 0)"  # the morning US clocks moved forward


def err(expr: str) -> str:
    """The error `expr` throws, as "Name: message"."""
    return eval_js(f"try {{ {expr}; return 'no error'; }} catch (e) {{ return e.name + ': ' + e.message; }}")


# ---- DateTimeFormat --------------------------------------------------------------------------------


def test_date_time_format_time_zones():
    assert eval_js(f"""
      const at = {AT};
      const f = (timeZone, o) => new Intl.DateTimeFormat("en-US", {{ timeZone, ...o }}).format(at);
      return [
        f("America/Los_Angeles", {{ dateStyle: "full", timeStyle: "long" }}),
        f("Asia/Kolkata", {{ timeStyle: "short" }}),
        f("Australia/Lord_Howe", {{ hour: "numeric", minute: "2-digit", timeZoneName: "short" }}),
        f("+05:30", {{ timeStyle: "short" }}),
        [at - 3600e3, at + 3600e3].map((t) => new Intl.DateTimeFormat("en-US", {{ timeZone: "America/New_York", timeStyle: "long" }}).format(t)),
        new Intl.DateTimeFormat().resolvedOptions().timeZone,
        ["Asia/Kolkata", "asia/tokyo", "US/Eastern", "Etc/GMT", "Europe/Kyiv", "Australia/ACT"].map(
          (timeZone) => new Intl.DateTimeFormat("en", {{ timeZone }}).resolvedOptions().timeZone),
      ];
    """) == [
        "Saturday, March 9, 2024 at 10:30:00 PM PST",
        "12:00 PM",
        "5:30 PM GMT+11",
        "12:00 PM",
        ["12:30:00 AM EST", "3:30:00 AM EDT"],
        "UTC",
        ["Asia/Calcutta", "Asia/Tokyo", "America/New_York", "UTC", "Europe/Kiev", "Australia/Sydney"],
    ]


def test_date_time_format_components_and_resolved_options():
    assert eval_js(f"""
      const at = {AT};
      const f = new Intl.DateTimeFormat("de-DE", {{ weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "Europe/Berlin" }});
      const h = new Intl.DateTimeFormat("en", {{ hour: "numeric", hour12: false, timeZone: "UTC" }});
      return [f.format(at), f.resolvedOptions(), h.format(at), h.resolvedOptions().hourCycle,
        new Intl.DateTimeFormat("ja-JP", {{ dateStyle: "long", timeZone: "Asia/Tokyo" }}).format(at),
        new Intl.DateTimeFormat("en-US", {{ timeZone: "UTC", fractionalSecondDigits: 3, second: "numeric" }}).format(1234)];
    """) == [
        "Sonntag, 10. März 2024",
        {
            "locale": "de-DE",
            "calendar": "gregory",
            "numberingSystem": "latn",
            "timeZone": "Europe/Berlin",
            "weekday": "long",
            "year": "numeric",
            "month": "long",
            "day": "numeric",
        },
        "06",
        "h23",
        "2024年3月10日",
        "1.234",
    ]


def test_date_time_format_to_parts():
    assert eval_js("""
      return new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }).formatToParts(0);
    """) == [
        {"type": "month", "value": "Jan"},
        {"type": "literal", "value": " "},
        {"type": "day", "value": "1"},
        {"type": "literal", "value": ", "},
        {"type": "year", "value": "1970"},
        {"type": "literal", "value": ", "},
        {"type": "hour", "value": "12"},
        {"type": "literal", "value": ":"},
        {"type": "minute", "value": "00"},
        {"type": "literal", "value": " "},
        {"type": "dayPeriod", "value": "AM"},
    ]


def test_date_time_format_bound_format_and_legacy_call():
    assert eval_js("""
      const f = new Intl.DateTimeFormat("en", { timeZone: "UTC" });
      return [f.format === f.format, [0, 86400000].map(f.format), Intl.DateTimeFormat("en") instanceof Intl.DateTimeFormat,
              Object.prototype.toString.call(f), Intl.DateTimeFormat.name, Intl.DateTimeFormat.length];
    """) == [True, ["1/1/1970", "1/2/1970"], True, "[object Intl.DateTimeFormat]", "DateTimeFormat", 0]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            'new Intl.DateTimeFormat("en", { timeZone: "Mars/Base" })',
            "RangeError: Invalid time zone specified: Mars/Base",
        ),
        (
            'new Intl.DateTimeFormat("en", { month: "huge" })',
            "RangeError: Value huge out of range for Intl.DateTimeFormat options property month",
        ),
        ('new Intl.DateTimeFormat("en", { dateStyle: "full", hour: "numeric" })', "TypeError: Invalid option : option"),
        (
            'new Intl.DateTimeFormat("en", { fractionalSecondDigits: 4 })',
            "RangeError: fractionalSecondDigits value is out of range.",
        ),
        ('new Intl.DateTimeFormat("en", { calendar: "!!" })', "RangeError: Invalid calendar : !!"),
        ("new Intl.DateTimeFormat().format(NaN)", "RangeError: Invalid time value"),
        ("new Intl.DateTimeFormat().format(8.64e15 + 1)", "RangeError: Invalid time value"),
        ('new Intl.DateTimeFormat("en", null)', "TypeError: Intl.DateTimeFormat called on null or undefined"),
        ('new Intl.DateTimeFormat("en_US")', "RangeError: Invalid language tag: en_US"),
        (
            "Intl.DateTimeFormat.prototype.formatToParts.call({}, 0)",
            "TypeError: Method Intl.DateTimeFormat.prototype.formatToParts called on incompatible receiver #<Object>",
        ),
    ],
)
def test_date_time_format_errors(expr, expected):
    assert err(expr) == expected


def test_date_to_locale_strings():
    assert eval_js(f"""
      const d = new Date({AT});
      return [d.toLocaleString("en-US", {{ timeZone: "UTC" }}), d.toLocaleDateString("fr-FR", {{ timeZone: "UTC", weekday: "long", day: "numeric", month: "long" }}),
        d.toLocaleTimeString("de-DE", {{ timeZone: "Europe/Berlin" }}), d.toLocaleString(), new Date(NaN).toLocaleString(),
        d.toLocaleDateString("en-US", {{ timeZone: "UTC", hour: "numeric" }}), Date.prototype.toLocaleString.name];
    """) == [
        "3/10/2024, 6:30:00 AM",
        "dimanche 10 mars",
        "07:30:00",
        "3/10/2024, 6:30:00 AM",
        "Invalid Date",
        "3/10/2024, 6 AM",
        "toLocaleString",
    ]
    assert (
        err('new Date(0).toLocaleTimeString("en", { dateStyle: "short" })') == "TypeError: Invalid option : dateStyle"
    )
    assert err("Date.prototype.toLocaleString.call(1)") == (
        "TypeError: Method Date.prototype.toLocaleString called on incompatible receiver 1"
    )


# ---- NumberFormat ----------------------------------------------------------------------------------


def test_number_format_styles():
    assert eval_js("""
      const f = (l, o, x) => new Intl.NumberFormat(l, o).format(x);
      return [
        f("en-US", { style: "currency", currency: "USD" }, 1234567.891),
        f("de-DE", { style: "currency", currency: "EUR" }, 1234567.891),
        f("ja-JP", { style: "currency", currency: "JPY" }, 1234.5),
        f("en-US", { style: "currency", currency: "EUR", currencyDisplay: "name" }, 2),
        f("en-IN", {}, 12345678),
        f("en", { notation: "compact" }, 1500000),
        f("en", { notation: "compact", compactDisplay: "long" }, 1234567),
        f("en", { style: "percent", maximumFractionDigits: 1 }, 0.4567),
        f("en", { style: "unit", unit: "kilometer-per-hour" }, 88),
        f("en", { style: "unit", unit: "liter", unitDisplay: "long" }, 16),
        f("en", { notation: "engineering" }, 123456),
        f("en", { minimumIntegerDigits: 3 }, 7),
        f("en", { maximumSignificantDigits: 3 }, 123456),
        f("en", { maximumFractionDigits: 0, roundingMode: "halfEven" }, 2.5),
        f("en", { minimumFractionDigits: 2, trailingZeroDisplay: "stripIfInteger" }, 5),
        f("en", { useGrouping: false }, 1234567),
        f("en-US", { style: "percent", signDisplay: "exceptZero" }, 0.256),
        f("en", {}, 12345678901234567890n),
        f("en", {}, "1234567890.123456789012345"),
        f("en", { maximumFractionDigits: 20 }, "0.1"),
        f("en", {}, NaN), f("en", {}, -Infinity), f("en", {}, -0),
        (9876.5).toLocaleString("fr-FR"), (1234.5).toLocaleString("de-DE", { style: "currency", currency: "EUR" }),
        (123n).toLocaleString("en", { style: "percent" }),
        new Intl.NumberFormat("en", { style: "currency", currency: "USD" }).formatRange(3, 5),
      ];
    """) == [
        "$1,234,567.89",
        "1.234.567,89\u00a0€",
        "￥1,235",
        "2.00 euros",
        "1,23,45,678",
        "1.5M",
        "1.2 million",
        "45.7%",
        "88 km/h",
        "16 liters",
        "123.456E3",
        "007",
        "123,000",
        "2",
        "5",
        "1234567",
        "+26%",
        "12,345,678,901,234,567,890",
        "1,234,567,890.123",
        "0.1",
        "NaN",
        "-∞",
        "-0",
        "9\u202f876,5",
        "1.234,50\u00a0€",
        "12,300%",
        "$3.00 – $5.00",
    ]


def test_number_format_to_parts_and_resolved_options():
    assert eval_js("""
      return [new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", currencySign: "accounting" }).formatToParts(-1234.5),
        new Intl.NumberFormat("en", { notation: "scientific" }).formatToParts(-12345),
        new Intl.NumberFormat("en").formatToParts(NaN),
        new Intl.NumberFormat("en", { notation: "compact" }).resolvedOptions()];
    """) == [
        [
            {"type": "literal", "value": "("},
            {"type": "currency", "value": "$"},
            {"type": "integer", "value": "1"},
            {"type": "group", "value": ","},
            {"type": "integer", "value": "234"},
            {"type": "decimal", "value": "."},
            {"type": "fraction", "value": "50"},
            {"type": "literal", "value": ")"},
        ],
        [
            {"type": "minusSign", "value": "-"},
            {"type": "integer", "value": "1"},
            {"type": "decimal", "value": "."},
            {"type": "fraction", "value": "235"},
            {"type": "exponentSeparator", "value": "E"},
            {"type": "exponentInteger", "value": "4"},
        ],
        [{"type": "nan", "value": "NaN"}],
        {
            "locale": "en",
            "numberingSystem": "latn",
            "style": "decimal",
            "minimumIntegerDigits": 1,
            "minimumFractionDigits": 0,
            "maximumFractionDigits": 0,
            "minimumSignificantDigits": 1,
            "maximumSignificantDigits": 2,
            "useGrouping": "min2",
            "notation": "compact",
            "compactDisplay": "short",
            "signDisplay": "auto",
            "roundingIncrement": 1,
            "roundingMode": "halfExpand",
            "roundingPriority": "morePrecision",
            "trailingZeroDisplay": "auto",
        },
    ]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            'new Intl.NumberFormat("en", { style: "currency" })',
            "TypeError: Currency code is required with currency style.",
        ),
        (
            'new Intl.NumberFormat("en", { style: "currency", currency: "US" })',
            "RangeError: Invalid currency code : US",
        ),
        (
            'new Intl.NumberFormat("en", { style: "unit" })',
            "TypeError: Invalid unit argument for Intl.NumberFormat() ''",
        ),
        (
            'new Intl.NumberFormat("en", { style: "unit", unit: "furlong" })',
            "RangeError: Invalid unit argument for Intl.NumberFormat() 'furlong'",
        ),
        (
            'new Intl.NumberFormat("en", { maximumFractionDigits: 101 })',
            "RangeError: maximumFractionDigits value is out of range.",
        ),
        (
            'new Intl.NumberFormat("en", { maximumFractionDigits: NaN })',
            "RangeError: maximumFractionDigits value is out of range.",
        ),
        (
            'new Intl.NumberFormat("en", { minimumFractionDigits: 3, maximumFractionDigits: 1 })',
            "RangeError: maximumFractionDigits value is out of range.",
        ),
        (
            'new Intl.NumberFormat("en", { roundingIncrement: 3 })',
            "RangeError: roundingIncrement value is out of range.",
        ),
        (
            'new Intl.NumberFormat("en", { useGrouping: "sometimes" })',
            "RangeError: Value sometimes out of range for Intl.NumberFormat options property useGrouping",
        ),
        (
            'Number.prototype.toLocaleString.call("1")',
            "TypeError: Number.prototype.toLocaleString requires that 'this' be a Number",
        ),
        (
            'new Intl.NumberFormat().format("1".repeat(5000))',
            "RangeError: Intl.NumberFormat: a number of more than 1100 characters",
        ),
    ],
)
def test_number_format_errors(expr, expected):
    assert err(expr) == expected


# ---- Collator, PluralRules, RelativeTimeFormat, ListFormat -----------------------------------------------


def test_collator():
    assert eval_js("""
      const sort = (a, l, o) => [...a].sort(new Intl.Collator(l, o).compare);
      return [sort(["zebra", "Äpfel", "apple", "Zoo", "éclair"], "de"), sort(["b", "a", "ä", "z", "ö", "o"], "sv"),
        sort(["b", "a", "B", "A"], "en", { caseFirst: "upper" }), sort(["item10", "item2", "item1"], "en", { numeric: true }),
        sort(["item10", "item2", "item1"], "en-u-kn"),
        [new Intl.Collator("en", { sensitivity: "base" }).compare("a", "Á"), new Intl.Collator("en", { sensitivity: "accent" }).compare("a", "A"),
         new Intl.Collator("en", { sensitivity: "case" }).compare("a", "A"), new Intl.Collator("en", { ignorePunctuation: true }).compare("co-op", "coop")],
        ["a".localeCompare("b"), "ä".localeCompare("z", "sv"), "ä".localeCompare("z", "de"), "a".localeCompare("A", undefined, { sensitivity: "base" })],
        new Intl.Collator("de-u-co-phonebk").resolvedOptions(), new Intl.Collator("pt-PT").resolvedOptions().locale];
    """) == [
        ["Äpfel", "apple", "éclair", "zebra", "Zoo"],
        ["a", "b", "o", "z", "ä", "ö"],
        ["A", "a", "B", "b"],
        ["item1", "item2", "item10"],
        ["item1", "item2", "item10"],
        [0, 0, -1, 0],
        [-1, 1, -1, 0],
        {
            "locale": "de-u-co-phonebk",
            "usage": "sort",
            "sensitivity": "variant",
            "ignorePunctuation": False,
            "collation": "phonebk",
            "numeric": False,
            "caseFirst": "false",
        },
        "pt",
    ]
    assert err('new Intl.Collator("en", { sensitivity: "loud" })') == (
        "RangeError: Value loud out of range for Intl.Collator options property sensitivity"
    )


def test_plural_rules():
    assert eval_js("""
      const s = (l, o, ns) => ns.map((n) => new Intl.PluralRules(l, o).select(n));
      return [s("en", {}, [0, 1, 1.5, 2]), s("en", { type: "ordinal" }, [1, 2, 3, 4, 11, 12, 13, 21, 22, 23]),
        s("ru", {}, [1, 2, 5, 21]), s("ar", {}, [0, 1, 2, 3, 11, 100]), new Intl.PluralRules("en", { minimumFractionDigits: 1 }).select(1),
        new Intl.PluralRules("cy", { type: "ordinal" }).resolvedOptions().pluralCategories, new Intl.PluralRules("en-US").resolvedOptions().locale];
    """) == [
        ["other", "one", "other", "other"],
        ["one", "two", "few", "other", "other", "other", "other", "one", "two", "few"],
        ["one", "few", "many", "one"],
        ["zero", "one", "two", "few", "many", "other"],
        "other",
        ["zero", "one", "two", "few", "many", "other"],
        "en",
    ]
    assert err('Intl.PluralRules("en")') == "TypeError: Constructor Intl.PluralRules requires 'new'"
    assert err('new Intl.PluralRules("en", { type: "dual" })') == (
        "RangeError: Value dual out of range for Intl.PluralRules options property type"
    )


def test_relative_time_format():
    assert eval_js("""
      const auto = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
      return [[-2, -1, 0, 1, 2].map((n) => auto.format(n, "day")), ["second", "quarter", "years"].map((u) => auto.format(1, u)),
        auto.format(0, "second"), new Intl.RelativeTimeFormat("es").format(3, "week"), new Intl.RelativeTimeFormat("en", { style: "short" }).format(-3, "month"),
        new Intl.RelativeTimeFormat("en").formatToParts(-1234.5, "days"), auto.formatToParts(1, "day"), auto.resolvedOptions()];
    """) == [
        ["2 days ago", "yesterday", "today", "tomorrow", "in 2 days"],
        ["in 1 second", "next quarter", "next year"],
        "now",
        "dentro de 3 semanas",
        "3 mo. ago",
        [
            {"type": "integer", "value": "1", "unit": "day"},
            {"type": "group", "value": ",", "unit": "day"},
            {"type": "integer", "value": "234", "unit": "day"},
            {"type": "decimal", "value": ".", "unit": "day"},
            {"type": "fraction", "value": "5", "unit": "day"},
            {"type": "literal", "value": " days ago"},
        ],
        [{"type": "literal", "value": "tomorrow"}],
        {"locale": "en", "style": "long", "numeric": "auto", "numberingSystem": "latn"},
    ]
    assert err('new Intl.RelativeTimeFormat("en").format(1, "decade")') == (
        "RangeError: Invalid unit argument for Intl.RelativeTimeFormat.prototype.format() 'decade'"
    )
    assert err('new Intl.RelativeTimeFormat("en").format(Infinity, "day")') == (
        "RangeError: Value need to be finite number for Intl.RelativeTimeFormat.prototype.format()"
    )


def test_list_format():
    assert eval_js("""
      return [new Intl.ListFormat("en").format(["red", "green", "blue"]), new Intl.ListFormat("en", { type: "disjunction" }).format(["a", "b", "c"]),
        new Intl.ListFormat("de").format(new Set(["x", "y", "z"])), new Intl.ListFormat("en", { type: "unit", style: "narrow" }).format(["5 lb", "12 oz"]),
        new Intl.ListFormat("en").format([]), new Intl.ListFormat("en").formatToParts(["a", "b"])];
    """) == [
        "red, green, and blue",
        "a, b, or c",
        "x, y und z",
        "5 lb 12 oz",
        "",
        [{"type": "element", "value": "a"}, {"type": "literal", "value": " and "}, {"type": "element", "value": "b"}],
    ]
    assert err('new Intl.ListFormat("en").format(["a", 1])') == "TypeError: Iterable yielded 1 which is not a string"


# ---- Segmenter, Locale, DisplayNames, the Intl object -----------------------------------------------------


def test_segmenter():
    assert eval_js("""
      const seg = (g, s, l = "en") => [...new Intl.Segmenter(l, { granularity: g }).segment(s)];
      const words = new Intl.Segmenter("en", { granularity: "word" }).segment("hello wide world");
      return [seg("grapheme", "a👍🏽é👨‍👩‍👧").map((s) => [s.segment, s.index]),
        seg("word", "It's 3.5 km!").map((s) => [s.segment, s.isWordLike]),
        seg("sentence", "Hi there. How are you? Fine!").map((s) => s.segment),
        seg("word", "今日は良い天気", "ja").map((s) => s.segment),
        words.containing(8), String(words.containing(99)), seg("grapheme", ""),
        Object.prototype.toString.call(words[Symbol.iterator]()), new Intl.Segmenter().resolvedOptions()];
    """) == [
        [["a", 0], ["👍🏽", 1], ["é", 5], ["👨\u200d👩\u200d👧", 6]],
        [["It's", True], [" ", False], ["3.5", True], [" ", False], ["km", True], ["!", False]],
        ["Hi there. ", "How are you? ", "Fine!"],
        ["今日", "は", "良い", "天気"],
        {"segment": "wide", "index": 6, "input": "hello wide world", "isWordLike": True},
        "undefined",
        [],
        "[object Segmenter String Iterator]",
        {"locale": "en-US", "granularity": "grapheme"},
    ]
    assert err('new Intl.Segmenter("en", { granularity: "line" })') == (
        "RangeError: Value line out of range for Intl.Segmenter options property granularity"
    )


def test_locale_and_display_names():
    assert eval_js("""
      const l = new Intl.Locale("en-Latn-US-u-ca-gregory-hc-h12");
      return [l.toString(), l.baseName, l.language, l.script, l.region, l.calendar, l.hourCycle,
        new Intl.Locale("en", { region: "GB", calendar: "buddhist" }).toString(), new Intl.Locale("en").maximize().toString(),
        new Intl.Locale("zh-Hant-TW").minimize().toString(), new Intl.Locale("de-u-co-phonebk-kn").numeric,
        new Intl.DateTimeFormat(new Intl.Locale("de-DE")).resolvedOptions().locale,
        new Intl.DisplayNames("en", { type: "region" }).of("DE"), new Intl.DisplayNames("de", { type: "region" }).of("US"),
        new Intl.DisplayNames("en", { type: "language" }).of("fr-CA"), new Intl.DisplayNames("en", { type: "currency" }).of("JPY"),
        new Intl.DisplayNames("en", { type: "script" }).of("Cyrl"), String(new Intl.DisplayNames("en", { type: "region", fallback: "none" }).of("QQ")),
        new Intl.DisplayNames("en", { type: "dateTimeField" }).of("month")];
    """) == [
        "en-Latn-US-u-ca-gregory-hc-h12",
        "en-Latn-US",
        "en",
        "Latn",
        "US",
        "gregory",
        "h12",
        "en-GB-u-ca-buddhist",
        "en-Latn-US",
        "zh-TW",
        True,
        "de-DE",
        "Germany",
        "Vereinigte Staaten",
        "Canadian French",
        "Japanese Yen",
        "Cyrillic",
        "undefined",
        "month",
    ]
    assert err('new Intl.Locale("en", { hourCycle: "h25" })') == (
        "RangeError: Value h25 out of range for locale options property hourCycle"
    )
    assert (
        err("new Intl.Locale('')") == "RangeError: First argument to Intl.Locale constructor can't be empty or missing"
    )


def test_intl_object_and_locale_lists():
    assert eval_js("""
      return [Intl.getCanonicalLocales(["EN-us", "zh-hant-tw", "iw", "en-u-ca-gregory-nu-latn", "en-US"]),
        Intl.getCanonicalLocales("de-1996-1901"), Intl.DateTimeFormat.supportedLocalesOf(["en-US", "xx", "de-AT-u-ca-buddhist"]),
        new Intl.DateTimeFormat(["xx-YY", "fr"]).resolvedOptions().locale, new Intl.NumberFormat("en-XX").resolvedOptions().locale,
        Intl.supportedValuesOf("calendar").includes("japanese"), Intl.supportedValuesOf("unit").includes("kilometer"),
        Object.prototype.toString.call(Intl), Object.keys(Intl), typeof Intl.Segmenter];
    """) == [
        ["en-US", "zh-Hant-TW", "he", "en-u-ca-gregory-nu-latn"],
        ["de-1901-1996"],
        ["en-US", "de-AT-u-ca-buddhist"],
        "fr",
        "en",
        True,
        True,
        "[object Intl]",
        [],
        "function",
    ]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("Intl.getCanonicalLocales([1])", "TypeError: Language ID should be string or object."),
        ("Intl.getCanonicalLocales(null)", "TypeError: Cannot convert undefined or null to object"),
        ('Intl.getCanonicalLocales("root")', "RangeError: Invalid language tag: root"),
        ('Intl.getCanonicalLocales("en-a-foo-a-bar")', "RangeError: Invalid language tag: en-a-foo-a-bar"),
        ('Intl.getCanonicalLocales("de-1996-1996")', "RangeError: Invalid language tag: de-1996-1996"),
        ('Intl.getCanonicalLocales("i-klingon")', "RangeError: Invalid language tag: i-klingon"),
        (
            'Intl.getCanonicalLocales(Array(65).fill("en"))',
            "RangeError: Incorrect locale information provided: at most 64 tags",
        ),
        ('Intl.supportedValuesOf("bogus")', "RangeError: Invalid key : bogus"),
        (
            'Intl.NumberFormat.supportedLocalesOf("en", { localeMatcher: "bogus" })',
            "RangeError: Value bogus out of range for Intl.NumberFormat.supportedLocalesOf options property localeMatcher",
        ),
    ],
)
def test_locale_list_errors(expr, expected):
    assert err(expr) == expected


def test_string_locale_methods():
    assert eval_js("""
      return ["straße".toLocaleUpperCase("de-DE"), "i".toLocaleUpperCase("tr"), "I".toLocaleLowerCase("tr"), "I".toLocaleLowerCase("en"),
        "i".toLocaleUpperCase(["az", "en"]), "abc".toLocaleUpperCase(), "ΌΣΟΣ".toLocaleLowerCase("el"), String.prototype.localeCompare.length >= 0];
    """) == ["STRASSE", "İ", "ı", "i", "İ", "ABC", "όσος", True]
    assert err('"x".toLocaleUpperCase("bad_tag")') == "RangeError: Invalid language tag: bad_tag"
    assert err('String.prototype.localeCompare.call(null, "a")') == (
        "TypeError: String.prototype.localeCompare called on null or undefined"
    )


# ---- what tenant code cannot break or exhaust ---------------------------------------------------------------


def test_patched_builtins_do_not_reach_the_formatters():
    assert eval_js("""
      JSON.stringify = () => { throw new Error("patched"); };
      Array.prototype[Symbol.iterator] = function* () { throw new Error("patched"); };
      String.prototype.slice = () => "patched";
      return [new Intl.NumberFormat("en", { style: "percent" }).format(0.5), new Date(0).toLocaleDateString("en-US", { timeZone: "UTC" }),
              Intl.getCanonicalLocales("EN").length];
    """) == ["50%", "1/1/1970", 1]


def test_many_formatters_share_host_handles():
    # the same options give one host object, however many JS objects there are
    assert (
        eval_js("""
      let s = "";
      for (let i = 0; i < 3000; i++) s = new Intl.NumberFormat("en", { maximumFractionDigits: 2 }).format(i / 3);
      return s;
    """)
        == "999.67"
    )


def test_collected_formatters_free_their_handles():
    # 1,500 distinct formatters, each dropped before the next: the finalizer frees the host's handles
    assert (
        eval_js("""
      let last;
      for (let i = 0; i < 1500; i++) {
        const h = String(Math.floor(i / 60) % 24).padStart(2, "0"), m = String(i % 60).padStart(2, "0");
        last = new Intl.DateTimeFormat("en", { timeZone: "+" + h + ":" + m, timeZoneName: "shortOffset" }).format(0);
        if (i % 100 === 0) await null;
      }
      return last;
    """)
        == "1/1/1970, GMT+0:59"
    )


def test_host_state_shares_and_counts_references():
    st = HostState()
    obj, other = object(), object()
    h = st.put(obj, shared=True)
    assert st.put(obj, shared=True) == h and st.put(other) != h
    st.drop(h)
    assert st.get(h) is obj
    st.drop(h)
    with pytest.raises(HostCallError):
        st.get(h)
    assert st.put(obj, shared=True) != h


# ---- the host side's own checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tag", ["en", "en-US", "zh-Hant-TW", "de-1996", "en-u-ca-gregory", "en-x-foo", "und", "sr-Latn-RS-u-nu-latn"]
)
def test_well_formed_tags(tag):
    assert L.well_formed(tag)


@pytest.mark.parametrize(
    "tag",
    [
        "",
        "en_US",
        "e",
        "root",
        "en-",
        "-en",
        "en--US",
        "abcd",
        "en-a",
        "en-u",
        "en-x",
        "en-a-aa-a-bb",
        "é",
        "en-US-x-" + "a" * 9,
        "a" * 300,
    ],
)
def test_malformed_tags(tag):
    assert not L.well_formed(tag)
    with pytest.raises(HostCallError) as e:
        L.canonical(tag)
    assert e.value.code == "E_INTL_RANGE"


def test_host_refuses_bad_values():
    for bad in (float("nan"), float("inf"), 8.64e15 + 1, "0", None, True):
        with pytest.raises(HostCallError):
            L.time_value(bad)
    with pytest.raises(HostCallError):
        L.options("{" + '"a":1,' * 2000 + '"b":2}')
    with pytest.raises(HostCallError):
        L.options('{"a": {"nested": 1}}')
    with pytest.raises(HostCallError):
        L.locale_list('"en"')
    for zone in ("", "x" * 100, "Mars/Base", "SystemV/EST5", "+24:00"):
        with pytest.raises(HostCallError):
            L.time_zone(zone)


def test_icu_is_imported_only_when_a_worker_touches_intl():
    code = (
        "import sys\n"
        "from tests.conftest import eval_js\n"
        "eval_js('return [1.5.toFixed(1), new Date(0).toISOString()]')\n"
        "print('icu' in sys.modules)\n"
        "eval_js('return [typeof Intl, typeof Intl.DateTimeFormat]')\n"  # feature detection loads the chunk only
        "print('icu' in sys.modules)\n"
        "eval_js('return (1234.5).toLocaleString(\"de\")')\n"
        "print('icu' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["False", "False", "True"]


def test_option_values_are_converted_as_the_spec_says():
    assert eval_js("""
      const e = (f) => { try { f(); return "ok"; } catch (x) { return x.name + ": " + x.message.slice(0, 60); } };
      return [
        e(() => new Intl.DateTimeFormat("en", { month: Symbol() })),
        e(() => new Intl.DateTimeFormat("en", { get month() { throw new Error("from the getter"); } })),
        new Intl.DateTimeFormat("en", { month: { toString() { return "long"; } }, timeZone: "UTC" }).format(0),
        e(() => new Intl.DateTimeFormat("en", { timeZone: "x".repeat(100000) })),
        e(() => new Intl.NumberFormat("en", { style: "x".repeat(100000) })),
        new Intl.NumberFormat("en").format({ valueOf() { return 42; } }),
        e(() => new Intl.NumberFormat(["en", { toString() { throw new Error("from the tag"); } }])),
        ["UTC", "Europe/London"].map((timeZone) => new Intl.DateTimeFormat("en", { timeZone, timeZoneName: "shortOffset" }).format(0)),
        new Intl.DateTimeFormat("en", { timeZone: "UTC", timeZoneName: "longOffset" }).formatToParts(0)[6],
      ];
    """) == [
        "TypeError: Cannot convert a Symbol value to a string",
        "Error: from the getter",
        "January",
        "RangeError: Invalid time zone specified",
        "RangeError: Value " + "x" * 54,
        "42",
        "Error: from the tag",
        ["1/1/1970, GMT+0", "1/1/1970, GMT+1"],
        {"type": "timeZoneName", "value": "GMT+00:00"},
    ]


def test_a_bound_format_outlives_its_formatter_object():
    # `const format = new Intl.NumberFormat(...).format` keeps working after the object is unreachable
    assert eval_js("""
      const format = new Intl.NumberFormat("en", { style: "percent" }).format;
      const compare = new Intl.Collator("en", { numeric: true }).compare;
      for (let i = 0; i < 2000; i++) new Intl.NumberFormat("en", { minimumIntegerDigits: 1 + (i % 21) });
      await null; await null;
      new Intl.NumberFormat("de");   // frees the handles the finalizer queued
      return [format(0.25), ["a10", "a9"].sort(compare)];
    """) == ["25%", ["a9", "a10"]]


def test_segments_outlive_their_segmenter():
    assert eval_js("""
      const segments = new Intl.Segmenter("en", { granularity: "word" }).segment("one two");
      for (let i = 0; i < 1100; i++) new Intl.Segmenter("en", { granularity: ["word", "grapheme", "sentence"][i % 3] });
      await null; await null;
      new Intl.Segmenter("de");   // frees the handles the finalizer queued
      return [...segments].map((s) => s.segment);
    """) == ["one", " ", "two"]
