// What one entry of a ledger's change log says, in words a person reads: what was done, by whom,
// through which door, when (in the ledger's time zone), and which fields it touched. No page, no
// state: history.js draws it, and tests/dashboard/test_dashboard.py runs this module under node.

const OPS = { created: "Created", updated: "Updated", deleted: "Deleted" };
const DOORS = {
  rest: "the REST API", graphql: "GraphQL", worker: "the worker", import: "an import",
  cli: "the command line",
};

// The order a person reads a transaction in. The log keeps its images as jsonb, which keeps no
// key order; fields not named here follow in the order the entry gives them.
const FIELD_ORDER = [
  "date", "type", "amount", "currency", "rate", "ledgerAmount", "category", "categoryId", "splits",
  "payee", "tags", "description", "id", "createdAt", "createdBy",
];
const place = (key) => (FIELD_ORDER.includes(key) ? FIELD_ORDER.indexOf(key) : FIELD_ORDER.length);

export const opName = (op) => OPS[op] ?? op;

// An entry without an actor was made by the service itself (a recurring run, the command line).
export const actorName = (entry) => entry.actor?.name ?? "the service";

export const doorName = (via) => DOORS[via] ?? via;

// "categoryId" → "Category id", "createdAt" → "Created at".
export function fieldLabel(key) {
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// A field's value as the API gives it: money and dates are the API's exact strings, never
// reformatted (an amount is "30.00", not a float); a list of plain values is joined, a split
// transaction's lines read "Groceries 45.10 (memo), Gifts 25.10", and a reference to a person
// (`createdBy`) is their name.
export function valueText(value) {
  if (value === null || value === undefined) return "none";
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== "object")) {
    return value.length ? value.join(", ") : "none";
  }
  if (Array.isArray(value) && value.every((v) => v && "category" in v && "amount" in v)) {
    return value.map((line) => `${line.category} ${line.amount}${line.memo ? ` (${line.memo})` : ""}`).join(", ");
  }
  if (typeof value === "object" && typeof value.name === "string") return value.name;
  if (typeof value === "object") return JSON.stringify(value);
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

// The fields an entry shows, in FIELD_ORDER: for an update only those whose
// value changed (with `before` and `after`); for a creation the whole new entity (`after` only);
// for a deletion the whole entity as it was (`before` only).
// A transaction in its ledger's own currency on both sides (no rate) shows no currency, rate or
// ledger amount: the ledger's, none, and its amount again.
const IN_ANOTHER_CURRENCY = ["currency", "rate", "ledgerAmount"];

export function changedFields(entry) {
  const before = entry.before ?? {};
  const after = entry.after ?? {};
  const transaction = "ledgerAmount" in before || "ledgerAmount" in after;
  const hidden = transaction && !before.rate && !after.rate ? IN_ANOTHER_CURRENCY : [];
  const keys = [...new Set([...Object.keys(after), ...Object.keys(before)])]
    .filter((key) => !hidden.includes(key))
    .sort((a, b) => place(a) - place(b));
  if (entry.op === "created") return keys.map((key) => ({ key, label: fieldLabel(key), after: after[key] }));
  if (entry.op === "deleted") return keys.map((key) => ({ key, label: fieldLabel(key), before: before[key] }));
  return keys.filter((key) => !same(before[key], after[key]))
    .map((key) => ({ key, label: fieldLabel(key), before: before[key], after: after[key] }));
}

// When the entry was made, on the ledger's clock (not the browser's), with the zone named.
export function entryTime(at, timeZone, locale) {
  const options = {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    second: "2-digit", timeZoneName: "short",
  };
  const when = new Date(at);
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone }).format(when);
  } catch (error) { // a zone this browser does not know: UTC, which says so
    if (!(error instanceof RangeError)) throw error;
    return new Intl.DateTimeFormat(locale, { ...options, timeZone: "UTC" }).format(when);
  }
}
