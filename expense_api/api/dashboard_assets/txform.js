// The transaction form beyond its plain fields: one category or split lines (2 to 50, each a
// category, an amount and an optional memo) with the amount still to split shown as the user
// types, summed exactly in whole minor units (BigInt, never a float); the payee with suggestions
// from the ledger's payees; tags as chips. transactionBody() makes the request's body of it all
// and refuses a split whose lines do not add up before anything is sent (the API would answer
// 422 splits_mismatch).
//
// The currency (default the ledger's) and an optional rate: in another currency the amount and
// the lines are in it (its digits), and the amount in the ledger's currency is shown before
// saving, computed here exactly as the API will (currencies.js): at the rate typed, else at the
// ledger's latest rate on or before the date, asked of the API's rates when the currency, the
// date or the ledger changes (no rate: said so; the API would answer 422 rate_unknown).

import { api, isCancelled, Problem } from "./api.js";
import { convertMinor, CURRENCIES, digitsOf, isCurrency, readRate } from "./currencies.js";
import { $, el, fromMinor, money, toMinor } from "./format.js";

const MIN_LINES = 2;
const MAX_LINES = 50;
const MAX_TAGS = 20;
const MAX_TAG_LENGTH = 40;
const SUGGEST_AFTER_MS = 250; // a pause in typing before the payees are asked for
const RATE_WINDOW_DAYS = 366; // the ledger's rates asked for first: the year up to the date

let view = null; // the page's state (views.js): ledger, categories, digits
let shownLedger = null;
let tags = [];
let suggesting = new AbortController(); // the payee suggestions in flight (or the last ones)
let suggestTimer;
let rating = new AbortController(); // the ledger's rate being looked up (or the last one)
let rateTimer;
const ledgerRates = new Map(); // "ledger currency date" → { date, rate } of the latest, or null

const form = () => $("tx-form");
const lines = () => [...$("tx-lines").children];
const isSplit = () => !$("tx-splits").hidden;
const part = (line, name) => line.querySelector(`[data-part="${name}"]`);
const sameName = (a, b) => a.toLowerCase() === b.toLowerCase();
// The transaction's own currency: the one typed when it is one, else the ledger's.
const ownCurrency = () => {
  const code = form().elements.currency.value.trim().toUpperCase();
  return isCurrency(code) ? code : view.ledger.currency;
};
const ownDigits = () => (ownCurrency() === view.ledger.currency ? view.digits : digitsOf(ownCurrency()));
const shown = (minor) => money(fromMinor(minor, ownDigits()), ownCurrency(), ownDigits());
const inLedger = (minor) => money(fromMinor(minor, view.digits), view.ledger.currency, view.digits);

// A refusal made here, shaped like the API's own so the form shows it the same way.
const refuse = (code, detail, errors) =>
  new Problem(422, { type: "about:blank", title: "Unprocessable Entity", status: 422, code, detail, errors });

export function setUpTransactionForm(state) {
  view = state;
  $("tx-split").addEventListener("click", () => (isSplit() ? useOneCategory() : split()));
  $("tx-add-line").addEventListener("click", () => {
    addLine();
    part(lines().at(-1), "categoryId").focus();
  });
  $("tx-currencies").replaceChildren(...CURRENCIES.map((code) => el("option", { value: code })));
  form().addEventListener("input", (event) => {
    const name = event.target.name;
    if (["currency", "rate", "date"].includes(name)) showConverted();
    if (name === "currency") showRemaining();
    if (name !== "amount" && event.target.dataset.part !== "amount") return;
    form().querySelector('.error[data-for="splits"]').textContent = ""; // a sum refused before
    showRemaining();
    showConverted();
  });
  form().elements.payee.addEventListener("input", suggestSoon);
  const tagInput = $("tx-tag");
  tagInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && tagInput.value.trim()) {
      event.preventDefault(); // adds the tag; Enter in the empty field still submits the form
      const refusal = addTag(tagInput.value);
      sayTagError(refusal ?? "");
      if (!refusal) tagInput.value = "";
    } else if (event.key === "Backspace" && tagInput.value === "" && tags.length) {
      removeTag(tags.at(-1), false);
    }
  });
  tagInput.addEventListener("input", () => {
    if (!tagInput.value.includes(",")) return;
    const parts = tagInput.value.split(",");
    tagInput.value = parts.pop(); // what is still being typed; a tag refused is named by the field
    sayTagError(parts.map(addTag).filter(Boolean).join(" "));
  });
}

// The view was loaded (another ledger, or its categories changed): the lines' selects offer the
// ledger's categories, and another ledger's payee suggestions are forgotten.
export function updateTransactionForm() {
  for (const line of lines()) {
    const select = part(line, "categoryId");
    const keep = select.value;
    select.replaceChildren(...categoryOptions());
    select.value = keep;
  }
  if (shownLedger !== view.ledger.id) {
    shownLedger = view.ledger.id;
    clearTimeout(suggestTimer);
    suggesting.abort();
    $("tx-payees").replaceChildren();
    if (!form().elements.id.value) setCurrency(view.ledger.currency, "");
  }
  ledgerRates.clear(); // the view was loaded again: rates may have been added meanwhile
  showRemaining();
  showConverted();
}

// Editing a transaction: its payee, its tags, its lines when it is split.
export function showTransactionParts(t) {
  setCurrency(t.currency ?? view.ledger.currency, t.rate ?? "");
  form().elements.payee.value = t.payee ?? "";
  setTags(t.tags ?? []);
  $("tx-tag").value = "";
  if (t.splits?.length) split(t.splits);
  else showSplit(false);
}

export function resetTransactionParts() {
  setCurrency(view.ledger.currency, "");
  showSplit(false);
  const single = form().elements.categoryId;
  if (!single.value) single.selectedIndex = 0; // after editing a split transaction
  setTags([]);
  $("tx-tag").value = "";
}

// The body of POST or PATCH: `splits` (the lines as a whole) or `categoryId` (which turns a split
// transaction back into one category), the payee and the tags (an edit sends them always: null
// clears the payee, [] the tags). Throws a Problem, sending nothing, for a split that does not
// add up or a tag it cannot add.
export function transactionBody(v) {
  const pending = $("tx-tag").value;
  if (pending.trim()) {
    const refusal = addTag(pending);
    if (refusal) throw refuse("validation_error", refusal, { tags: [refusal] });
    $("tx-tag").value = "";
  }
  // An empty description is "" (the API refuses null for it; the page used to send null).
  const body = { type: v.type, amount: v.amount.trim(), date: v.date, description: v.description };
  const payee = v.payee.trim() || null;
  if (payee !== null || v.id) body.payee = payee;
  if (tags.length || v.id) body.tags = [...tags];
  if (isSplit()) body.splits = splitLines();
  else body.categoryId = v.categoryId ? Number(v.categoryId) : null;
  // The currency when not the ledger's (an edit sends it always: back to the ledger's, too), as
  // typed (the API names a code it does not know); the rate only when one is typed (an edit
  // then shows the recorded one: sent again, it stays).
  const currency = v.currency.trim().toUpperCase();
  if (v.id || (currency && currency !== view.ledger.currency)) body.currency = currency || null;
  if (v.rate.trim()) body.rate = v.rate.trim();
  return body;
}

function setCurrency(currency, rate) {
  form().elements.currency.value = currency;
  form().elements.rate.value = rate;
  showConverted();
}

// ---- the amount in the ledger's currency -------------------------------------------------------

function sayConverted(text) {
  $("tx-converted").textContent = text;
}

// What the amount comes to in the ledger's currency, at the typed rate or the ledger's rate of
// the date (looked up once typing pauses, each lookup cancelling the one before).
function showConverted() {
  clearTimeout(rateTimer);
  rating.abort();
  if (!view?.ledger) return sayConverted("");
  const fields = form().elements;
  const code = fields.currency.value.trim().toUpperCase();
  const ledger = view.ledger.currency;
  if (code === "" || code === ledger) return sayConverted("");
  const into = `In ${ledger}:`;
  if (!isCurrency(code)) return sayConverted(`${into} ${code} is not an ISO 4217 currency code (such as EUR).`);
  const amount = toMinor(fields.amount.value, digitsOf(code));
  const typed = fields.rate.value.trim();
  if (typed) {
    const rate = readRate(typed);
    if (rate === null) {
      return sayConverted(`${into} ${typed} is not a rate (a positive decimal of at most 12 significant digits).`);
    }
    return sayConverted(converted(amount, code, rate, `at ${typed}`));
  }
  const date = fields.date.value;
  if (!date) return sayConverted(`${into} enter the date to use the ledger's rate of that day.`);
  const key = `${view.ledger.id} ${code} ${date}`;
  if (ledgerRates.has(key)) return sayConverted(fromLedgerRate(amount, code, date, ledgerRates.get(key)));
  sayConverted(`${into} looking up the ledger's ${code} rate of ${date}…`);
  rateTimer = setTimeout(() => lookUpRate(key, view.ledger.id, code, date), SUGGEST_AFTER_MS);
}

function converted(amount, code, rate, how) {
  const into = `In ${view.ledger.currency}:`;
  if (amount === null) return `${into} enter the amount in ${code} (${how}).`;
  const minor = convertMinor(amount, digitsOf(code), rate, view.digits);
  if (minor === 0n) return `${into} nothing (${how}): record it in ${view.ledger.currency} instead.`;
  return `${into} ${inLedger(minor)} (${shown(amount)} ${how}).`;
}

function fromLedgerRate(amount, code, date, found) {
  if (found === null) {
    return `In ${view.ledger.currency}: no rate for that date (the ledger has no ${code} rate on ` +
      `or before ${date}). Type a rate, or add the ledger's ${code} rates.`;
  }
  return converted(amount, code, readRate(found.rate), `at the ledger's rate of ${found.date}, ${found.rate}`);
}

async function lookUpRate(key, ledgerId, code, date) {
  rating = new AbortController();
  const { signal } = rating;
  try {
    const found = await latestRate(ledgerId, code, date, signal);
    signal.throwIfAborted();
    ledgerRates.set(key, found);
    showConverted();
  } catch (error) {
    if (isCancelled(error)) return;
    if (!(error instanceof Problem || error instanceof TypeError)) throw error;
    // A refusal or a network failure: the API will convert (or refuse) when it is saved.
    sayConverted(`In ${view.ledger.currency}: the ledger's ${code} rates could not be read (${error.message}).`);
  }
}

// The ledger's latest rate of `code` on or before `date` ({date, rate}), or null: the rates of
// the year up to the date first (one page as a rule), else all of them up to it. The API lists
// them by date, oldest first, a page at a time.
async function latestRate(ledgerId, code, date, signal) {
  const day = new Date(`${date}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() - RATE_WINDOW_DAYS);
  const since = day.toISOString().slice(0, 10);
  for (const from of [since, null]) {
    let cursor = null;
    let last = null;
    do {
      const query = new URLSearchParams({ currency: code, to: date, limit: "500" });
      if (from) query.set("from", from);
      if (cursor) query.set("cursor", cursor);
      const page = await api("GET", `/api/ledgers/${ledgerId}/rates?${query}`, undefined, { signal });
      last = page.items.at(-1) ?? last;
      cursor = page.nextCursor ?? null;
    } while (cursor);
    if (last) return { date: last.date, rate: last.rate };
  }
  return null;
}

// ---- one category or split lines ---------------------------------------------------------------

function categoryOptions() {
  return [el("option", { value: "" }, "Choose a category"),
    ...view.categories.map((c) => el("option", { value: c.id }, c.name))];
}

// Into lines: the ones given (a split transaction edited), else two, the first in the category
// the form had.
function split(given = null) {
  $("tx-lines").replaceChildren();
  for (const line of given ?? [{ categoryId: form().elements.categoryId.value }, {}]) addLine(line);
  showSplit(true);
  if (!given) part(lines()[0], "categoryId").focus();
}

function useOneCategory() {
  const first = part(lines()[0], "categoryId").value;
  showSplit(false);
  const single = form().elements.categoryId;
  if (first) single.value = first;
  single.focus();
}

// The single category's select is disabled while split, so the form's values leave it out.
function showSplit(on) {
  $("tx-splits").hidden = !on;
  $("tx-category").hidden = on;
  form().elements.categoryId.disabled = on;
  const button = $("tx-split");
  button.textContent = on ? "Use one category" : "Split into lines";
  button.setAttribute("aria-expanded", String(on));
  if (!on) $("tx-lines").replaceChildren();
  showRemaining();
}

function addLine({ categoryId = "", amount = "", memo = "" } = {}) {
  if (lines().length >= MAX_LINES) return;
  const select = el("select", { "data-part": "categoryId" }, ...categoryOptions());
  select.value = categoryId === null ? "" : String(categoryId);
  const named = (text, field) => el("label", {}, el("span", { class: "visually-hidden", "data-line": "" }), text, field);
  const line = el("li", { class: "line" },
    named("Category", select),
    named("Amount", el("input", { "data-part": "amount", inputmode: "decimal", autocomplete: "off" })),
    named("Memo (optional)", el("input", { "data-part": "memo", maxlength: "200", autocomplete: "off" })),
    el("button", { type: "button", class: "link", "data-part": "remove" }, "Remove"),
    ...["categoryId", "amount", "memo"].map((name) => el("p", { class: "error", "data-error": name })));
  part(line, "amount").value = amount;
  part(line, "memo").value = memo ?? "";
  part(line, "remove").addEventListener("click", () => removeLine(line));
  $("tx-lines").append(line);
  renumber();
}

function removeLine(line) {
  if (lines().length <= MIN_LINES) return;
  const next = line.nextElementSibling ?? line.previousElementSibling;
  line.remove();
  renumber();
  showRemaining();
  part(next, "categoryId").focus();
}

// Each line's fields are named splits.N.field, as the API names their errors (N from 0, in the
// order sent), and labelled "Line N+1 ..." for a screen reader.
function renumber() {
  const all = lines();
  all.forEach((line, n) => {
    for (const field of line.querySelectorAll("select, input")) field.name = `splits.${n}.${field.dataset.part}`;
    for (const slot of line.querySelectorAll(".error")) slot.dataset.for = `splits.${n}.${slot.dataset.error}`;
    for (const label of line.querySelectorAll("[data-line]")) label.textContent = `Line ${n + 1} `;
    const remove = part(line, "remove");
    remove.setAttribute("aria-label", `Remove line ${n + 1}`);
    remove.disabled = all.length <= MIN_LINES;
  });
  $("tx-add-line").disabled = all.length >= MAX_LINES;
}

// The transaction's amount and the lines' (empty ones count as nothing yet), in minor units;
// `unreadable` is the number of the first line whose amount is none in this currency.
function figures() {
  const digits = ownDigits();
  const total = toMinor(form().elements.amount.value, digits);
  let sum = 0n;
  let unreadable = null;
  lines().forEach((line, n) => {
    const text = part(line, "amount").value.trim();
    if (text === "") return;
    const minor = toMinor(text, digits);
    if (minor === null) unreadable ??= n + 1;
    else sum += minor;
  });
  return { total, sum, unreadable };
}

function showRemaining() {
  const out = $("tx-remaining");
  out.className = "remaining";
  if (!isSplit() || !view?.ledger) return void (out.textContent = "");
  const { total, sum, unreadable } = figures();
  const digits = ownDigits();
  const allowed = `at most ${digits} decimal${digits === 1 ? "" : "s"}`;
  if (unreadable !== null) {
    out.textContent = `Line ${unreadable}: not an amount in ${ownCurrency()} (${allowed}).`;
  } else if (total === null) {
    out.textContent = `The lines add up to ${shown(sum)}; enter the transaction's amount.`;
  } else {
    const left = total - sum;
    out.textContent = `Remaining: ${shown(left)}` + (left === 0n ? ". The lines add up."
      : left < 0n ? `. The lines are over the amount by ${shown(-left)}.` : " still to split.");
    out.classList.add(left === 0n ? "even" : left < 0n ? "over" : "short");
  }
}

// The lines as the API takes them. A line without a category, or lines whose amounts (all
// readable) do not add up to the amount, are refused here; any other fault is the API's to name.
function splitLines() {
  const errors = {};
  const body = lines().map((line, n) => {
    const categoryId = part(line, "categoryId").value;
    if (!categoryId) errors[`splits.${n}.categoryId`] = ["Choose a category."];
    const memo = part(line, "memo").value.trim();
    return { categoryId: Number(categoryId) || null, amount: part(line, "amount").value.trim(),
      ...(memo ? { memo } : {}) };
  });
  if (Object.keys(errors).length) throw refuse("validation_error", "A line has no category.", errors);
  const { total, sum } = figures();
  const complete = body.every((line) => toMinor(line.amount, ownDigits()) !== null);
  if (total !== null && complete && sum !== total) {
    const why = `The lines add up to ${shown(sum)}, not ${shown(total)}: ` +
      (sum < total ? `${shown(total - sum)} is not split yet.` : `they are over by ${shown(sum - total)}.`);
    throw refuse("splits_mismatch", `Not saved: the lines must add up to the amount exactly. ${why}`,
      { splits: [why] });
  }
  return body;
}

// ---- tags as chips -----------------------------------------------------------------------------

function sayTagError(text) {
  form().querySelector('.error[data-for="tags"]').textContent = text;
  if (text) $("tx-tag").setAttribute("aria-invalid", "true");
  else $("tx-tag").removeAttribute("aria-invalid");
}

function setTags(names) {
  tags = [...names];
  drawTags();
}

function drawTags() {
  $("tx-tags").replaceChildren(...tags.map((name) => el("li", { class: "chip" },
    el("span", {}, name),
    el("button", { type: "button", "aria-label": `Remove tag ${name}`, onclick: () => removeTag(name, true) }, "×"))));
}

// Adds one tag (a repeat, compared case-insensitively, counts once); when it cannot, says why.
function addTag(text) {
  const name = text.trim();
  if (!name || tags.some((t) => sameName(t, name))) return null;
  if ([...name].length > MAX_TAG_LENGTH) {
    return `A tag has at most ${MAX_TAG_LENGTH} characters: "${name}" was not added.`;
  }
  if (tags.length >= MAX_TAGS) return `At most ${MAX_TAGS} tags: "${name}" was not added.`;
  tags.push(name);
  drawTags();
  return null;
}

function removeTag(name, refocus) {
  tags = tags.filter((t) => t !== name);
  sayTagError("");
  drawTags();
  if (refocus) $("tx-tag").focus();
}

// ---- payee suggestions -------------------------------------------------------------------------

// Asked for once typing pauses; each new keystroke cancels the request before it.
function suggestSoon() {
  clearTimeout(suggestTimer);
  suggesting.abort();
  const q = form().elements.payee.value.trim();
  if (!q) return;
  suggestTimer = setTimeout(() => suggest(q), SUGGEST_AFTER_MS);
}

async function suggest(q) {
  suggesting = new AbortController();
  const { signal } = suggesting;
  const path = `/api/ledgers/${view.ledger.id}/payees?q=${encodeURIComponent(q)}`;
  try {
    const found = await api("GET", path, undefined, { signal });
    signal.throwIfAborted();
    $("tx-payees").replaceChildren(...found.items.map((p) => el("option", { value: p.name })));
  } catch (error) {
    // Suggestions only help: a refusal or a network failure leaves the field as it is.
    if (!(isCancelled(error) || error instanceof Problem || error instanceof TypeError)) throw error;
  }
}
