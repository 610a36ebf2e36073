// Formatting and building the page: amounts (and exact sums of them), months, HTML and SVG
// elements. No state.

const SVG = "http://www.w3.org/2000/svg";

export const $ = (id) => document.getElementById(id);

// Amounts arrive as exact decimal strings; Intl formats them for the browser's locale (a string
// exactly, never through a float). `digits`, when known, are the currency's own (ISO 4217, as the
// API writes them), which Intl's data does not always agree with.
export function money(amount, currency = "USD", digits = undefined) {
  const fraction = digits === undefined ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits };
  return new Intl.NumberFormat(navigator.language, { style: "currency", currency, ...fraction }).format(amount);
}

// ---- exact amounts: decimal strings <-> whole minor units (BigInt), never a float ------------

// How many fraction digits an amount the API wrote has ("0.00" → 2, "0" → 0).
export const fractionDigits = (amount) => (String(amount).split(".")[1] ?? "").length;

// "12.5" → 1250n with 2 digits; null when the text is no amount the API would take in this
// currency (what it accepts: digits, optionally a point and digits; more fraction digits than
// the currency has only when they are zeros).
export function toMinor(text, digits) {
  const match = /^([0-9]+)(?:\.([0-9]+))?$/.exec(String(text).trim());
  if (!match) return null;
  const fraction = match[2] ?? "";
  if (/[^0]/.test(fraction.slice(digits))) return null;
  return BigInt(match[1] + fraction.slice(0, digits).padEnd(digits, "0"));
}

// 1250n with 2 digits → "12.50"; -5n → "-0.05".
export function fromMinor(minor, digits) {
  const sign = minor < 0n ? "-" : "";
  const whole = (minor < 0n ? -minor : minor).toString().padStart(digits + 1, "0");
  return digits ? `${sign}${whole.slice(0, -digits)}.${whole.slice(-digits)}` : `${sign}${whole}`;
}

// A chart axis's value: whole units ("$2,500"), shortened from 100,000 up ("$150K").
export function axisMoney(amount, currency = "USD", compact = false) {
  return new Intl.NumberFormat(navigator.language, {
    style: "currency", currency, minimumFractionDigits: 0, maximumFractionDigits: 0,
    notation: compact ? "compact" : "standard",
  }).format(amount);
}

// "2026-03" → "Mar 26" (in the browser's language).
export function monthLabel(yearMonth) {
  const [year, month] = yearMonth.split("-").map(Number);
  return new Intl.DateTimeFormat(navigator.language, { month: "short", year: "2-digit", timeZone: "UTC" })
    .format(new Date(Date.UTC(year, month - 1, 1)));
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

export function say(text) { $("status").textContent = text; }

// "Mar 1, 2026, 10:00 AM", in the browser's language and zone; "never" for none.
export function when(iso) {
  if (!iso) return "never";
  return new Intl.DateTimeFormat(navigator.language, { dateStyle: "medium", timeStyle: "short" })
    .format(new Date(iso));
}

// A file the page made (recovery codes, the account's export), saved by the browser. A link to
// an object URL, not a data: one: the policy allows no data: but for images.
export function saveFile(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el("a", { href: url, download: name, hidden: "" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
