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
};

export default {
  fetch(request) {
    const route = routes[new URL(request.url).pathname];
    return route ? route() : new Response("no route", { status: 404 });
  },
};
