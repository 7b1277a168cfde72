// Dates and text: date-fns (+ @date-fns/tz), dayjs with utc/timezone plugins, and Intl formatting, all on fixed instants.
import { format, addDays, differenceInCalendarDays, formatDistanceStrict, parseISO, isWeekend } from "date-fns";
import { TZDate } from "@date-fns/tz";
import dayjs from "dayjs";
import utc from "dayjs/plugin/utc";
import timezone from "dayjs/plugin/timezone";
import relativeTime from "dayjs/plugin/relativeTime";

dayjs.extend(utc);
dayjs.extend(timezone);
dayjs.extend(relativeTime);

const AT = Date.UTC(2024, 2, 10, 6, 30, 0); // 2024-03-10T06:30:00Z, the morning US clocks moved forward
const ok = (v) => Response.json(v);

const routes = {
  "/date-fns": () => ok({
    utc: format(new TZDate(AT, "UTC"), "yyyy-MM-dd HH:mm EEEE"),
    plus30: format(addDays(new TZDate(AT, "UTC"), 30), "yyyy-MM-dd"),
    days: differenceInCalendarDays(parseISO("2024-12-25"), parseISO("2024-03-10")),
    distance: formatDistanceStrict(parseISO("2024-01-01"), parseISO("2024-03-10")),
    weekend: isWeekend(parseISO("2024-03-10")),
  }),
  "/date-fns-tz": () => ok({
    newYork: format(new TZDate(AT, "America/New_York"), "yyyy-MM-dd HH:mm xxx"),
    newYorkLater: format(new TZDate(AT + 3 * 3600e3, "America/New_York"), "yyyy-MM-dd HH:mm xxx"),
    tokyo: format(new TZDate(AT, "Asia/Tokyo"), "yyyy-MM-dd HH:mm xxx"),
    kolkata: new TZDate(AT, "Asia/Kolkata").toString(),
  }),
  "/dayjs": () => ok({
    iso: dayjs.utc(AT).toISOString(),
    berlin: dayjs.utc(AT).tz("Europe/Berlin").format("YYYY-MM-DD HH:mm Z"),
    sydney: dayjs.utc(AT).tz("Australia/Sydney").format("YYYY-MM-DD HH:mm Z"),
    from: dayjs.utc(AT).from(dayjs.utc(AT).add(3, "day")),
    startOfMonth: dayjs.utc(AT).startOf("month").format(),
  }),
  "/intl-date": () => ok({
    us: new Intl.DateTimeFormat("en-US", { dateStyle: "full", timeStyle: "long", timeZone: "America/Los_Angeles" }).format(AT),
    de: new Intl.DateTimeFormat("de-DE", { dateStyle: "medium", timeStyle: "short", timeZone: "Europe/Berlin" }).format(AT),
    ja: new Intl.DateTimeFormat("ja-JP", { year: "numeric", month: "long", day: "numeric", weekday: "short", timeZone: "Asia/Tokyo" }).format(AT),
    parts: new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "UTC", hour12: false }).formatToParts(AT),
    localeString: new Date(AT).toLocaleString("en-US", { timeZone: "UTC" }),
    dateString: new Date(AT).toLocaleDateString("fr-FR", { timeZone: "UTC", weekday: "long", day: "numeric", month: "long" }),
    resolved: new Intl.DateTimeFormat("en-US", { timeZone: "Asia/Kolkata" }).resolvedOptions().timeZone,
  }),
  "/intl-number": () => ok({
    usd: new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(1234567.891),
    eur: new Intl.NumberFormat("de-DE", { style: "currency", currency: "EUR" }).format(1234567.891),
    inr: new Intl.NumberFormat("en-IN").format(12345678),
    compact: new Intl.NumberFormat("en", { notation: "compact" }).format(1500000),
    percent: new Intl.NumberFormat("en", { style: "percent", maximumFractionDigits: 1 }).format(0.4567),
    unit: new Intl.NumberFormat("en", { style: "unit", unit: "kilometer-per-hour" }).format(88),
    toLocale: (9876.5).toLocaleString("fr-FR"),
  }),
  "/intl-text": () => ok({
    plural: [0, 1, 2, 5].map((n) => new Intl.PluralRules("en-US", { type: "ordinal" }).select(n)),
    pluralRu: [1, 2, 5].map((n) => new Intl.PluralRules("ru").select(n)),
    relative: [new Intl.RelativeTimeFormat("en", { numeric: "auto" }).format(-1, "day"), new Intl.RelativeTimeFormat("es").format(3, "week")],
    list: new Intl.ListFormat("en", { style: "long", type: "conjunction" }).format(["red", "green", "blue"]),
    sorted: ["zebra", "Äpfel", "apple", "Zoo", "éclair"].sort(new Intl.Collator("de").compare),
    segments: [...new Intl.Segmenter("en", { granularity: "word" }).segment("Hello, wide world!")].filter((s) => s.isWordLike).map((s) => s.segment),
    upper: "straße".toLocaleUpperCase("de-DE"),
  }),
  "/intl-zones": () => ok({
    zones: ["UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns"].map((timeZone) =>
      new Intl.DateTimeFormat("en-US", { timeZone, dateStyle: "medium", timeStyle: "long" }).format(AT)),
    dst: [AT - 3600e3, AT, AT + 3600e3].map((t) => new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", hour: "numeric", minute: "2-digit", timeZoneName: "short" }).format(t)),
    offsets: ["shortOffset", "longOffset", "shortGeneric", "longGeneric", "long"].map((timeZoneName) =>
      new Intl.DateTimeFormat("en-US", { timeZone: "Europe/Berlin", timeZoneName }).format(AT)),
    canonical: ["Asia/Kolkata", "asia/tokyo", "US/Eastern", "Etc/UTC", "Europe/Kyiv", "America/Argentina/Buenos_Aires", "+05:30"].map((timeZone) =>
      new Intl.DateTimeFormat("en", { timeZone }).resolvedOptions().timeZone),
    bad: (() => { try { new Intl.DateTimeFormat("en", { timeZone: "Mars/Olympus" }); return "no error"; } catch (e) { return e.name + ": " + e.message; } })(),
    hour12: new Date(AT).toLocaleTimeString("en-US", { timeZone: "Asia/Tokyo", hour12: false }),
  }),
  "/intl-parts": () => ok({
    date: new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }).formatToParts(AT),
    weekday: new Intl.DateTimeFormat("de-DE", { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "Europe/Berlin" }).formatToParts(AT),
    fraction: new Intl.DateTimeFormat("en-GB", { minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3, timeZone: "UTC" }).formatToParts(AT + 45),
    money: new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", currencySign: "accounting" }).formatToParts(-1234.5),
    compact: new Intl.NumberFormat("en", { notation: "compact", compactDisplay: "long" }).formatToParts(1234567),
    science: new Intl.NumberFormat("en", { notation: "scientific" }).formatToParts(-0.00012345),
    percent: new Intl.NumberFormat("fr-FR", { style: "percent", signDisplay: "always" }).formatToParts(0.256),
    relative: new Intl.RelativeTimeFormat("en").formatToParts(-1234.5, "days"),
    list: new Intl.ListFormat("en", { type: "disjunction" }).formatToParts(["tea", "coffee", "water"]),
  }),
  "/intl-plural": () => ok({
    en: [0, 1, 1.5, 2].map((n) => new Intl.PluralRules("en").select(n)),
    enFraction: new Intl.PluralRules("en", { minimumFractionDigits: 1 }).select(1),
    ordinal: [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101].map((n) => new Intl.PluralRules("en", { type: "ordinal" }).select(n)),
    ar: [0, 1, 2, 3, 11, 100].map((n) => new Intl.PluralRules("ar").select(n)),
    pl: [1, 2, 5, 22, 25].map((n) => new Intl.PluralRules("pl").select(n)),
    fr: [0, 1, 2].map((n) => new Intl.PluralRules("fr").select(n)),
    categories: ["en", "ar", "ja", "ru", "cy"].map((l) => new Intl.PluralRules(l).resolvedOptions().pluralCategories),
    resolved: new Intl.PluralRules("en-US", { type: "ordinal" }).resolvedOptions(),
  }),
  "/intl-relative": () => ok({
    auto: [-2, -1, 0, 1, 2].map((n) => new Intl.RelativeTimeFormat("en", { numeric: "auto" }).format(n, "day")),
    units: ["second", "minute", "hour", "week", "month", "quarter", "years"].map((u) => new Intl.RelativeTimeFormat("en", { numeric: "auto" }).format(1, u)),
    short: new Intl.RelativeTimeFormat("en", { style: "short" }).format(-3, "month"),
    narrow: new Intl.RelativeTimeFormat("en", { style: "narrow" }).format(2, "hours"),
    de: new Intl.RelativeTimeFormat("de", { numeric: "auto" }).format(-2, "day"),
    fr: new Intl.RelativeTimeFormat("fr").format(-5, "minute"),
    ja: new Intl.RelativeTimeFormat("ja").format(3, "week"),
    resolved: new Intl.RelativeTimeFormat("es", { style: "short" }).resolvedOptions(),
  }),
  "/intl-collate": () => ok({
    en: ["b", "a", "B", "A", "ä", "z"].sort(new Intl.Collator("en").compare),
    sv: ["b", "a", "ä", "z", "ö", "o"].sort(new Intl.Collator("sv").compare),
    upper: ["b", "a", "B", "A"].sort(new Intl.Collator("en", { caseFirst: "upper" }).compare),
    numeric: ["item10", "item2", "item1", "item20"].sort(new Intl.Collator("en", { numeric: true }).compare),
    base: [new Intl.Collator("en", { sensitivity: "base" }).compare("a", "Á"), new Intl.Collator("en", { sensitivity: "accent" }).compare("a", "A"), new Intl.Collator("en", { sensitivity: "case" }).compare("a", "á")],
    punctuation: new Intl.Collator("en", { ignorePunctuation: true }).compare("co-op", "coop"),
    localeCompare: ["a".localeCompare("b"), "ä".localeCompare("z", "sv"), "ä".localeCompare("z", "de"), "a".localeCompare("A", undefined, { sensitivity: "base" })],
    phonebook: new Intl.Collator("de-u-co-phonebk").resolvedOptions(),
  }),
  "/intl-segment": () => ok({
    graphemes: [...new Intl.Segmenter("en").segment("a👍🏽é👨‍👩‍👧🇫🇷")].map((s) => [s.segment, s.index]),
    words: [...new Intl.Segmenter("en", { granularity: "word" }).segment("It's 3.5 km, isn't it?")].map((s) => [s.segment, s.isWordLike]),
    sentences: [...new Intl.Segmenter("en", { granularity: "sentence" }).segment("Hi there. How are you? Fine!")].map((s) => s.segment),
    ja: [...new Intl.Segmenter("ja", { granularity: "word" }).segment("今日は良い天気です")].map((s) => s.segment),
    containing: new Intl.Segmenter("en", { granularity: "word" }).segment("hello wide world").containing(8),
    outside: String(new Intl.Segmenter("en").segment("abc").containing(5)),
    resolved: new Intl.Segmenter("fr", { granularity: "word" }).resolvedOptions(),
  }),
  "/intl-errors": () => {
    const err = (f) => { try { f(); return "no error"; } catch (e) { return e.name + ": " + e.message; } };
    return ok([
      err(() => new Intl.DateTimeFormat("en_US")),
      err(() => new Intl.DateTimeFormat("en", { month: "huge" })),
      err(() => new Intl.DateTimeFormat("en", { dateStyle: "full", hour: "numeric" })),
      err(() => new Intl.DateTimeFormat().format(NaN)),
      err(() => new Intl.NumberFormat("en", { style: "currency" })),
      err(() => new Intl.NumberFormat("en", { style: "currency", currency: "US" })),
      err(() => new Intl.NumberFormat("en", { style: "unit", unit: "furlong" })),
      err(() => new Intl.NumberFormat("en", { maximumFractionDigits: 101 })),
      err(() => new Intl.RelativeTimeFormat("en").format(1, "decade")),
      err(() => new Intl.RelativeTimeFormat("en").format(Infinity, "day")),
      err(() => new Intl.ListFormat("en").format(["a", 1])),
      err(() => Intl.getCanonicalLocales([1])),
      err(() => Intl.PluralRules("en")),
      err(() => new Intl.Collator("en", { sensitivity: "loud" })),
      err(() => Intl.DateTimeFormat.prototype.formatToParts.call({}, 0)),
      Intl.getCanonicalLocales(["EN-us", "zh-hant-tw", "iw", "en-u-ca-gregory-nu-latn"]),
    ]);
  },
};

export default {
  fetch(request) {
    const route = routes[new URL(request.url).pathname];
    return route ? route() : new Response("no route", { status: 404 });
  },
};
