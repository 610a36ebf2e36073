// What the page shows for the picked ledger and month, and the state it is drawn from. Loading a
// view cancels the load before it (AbortController): a slow answer for a ledger or month no
// longer picked is never drawn over the one that is.

import { api, isCancelled, Problem, session, signOut } from "./api.js";
import { drawBreakdown, drawBudgets, drawTrend } from "./charts.js";
import { clearErrors } from "./forms.js";
import { digitsOf } from "./currencies.js";
import { $, el, fractionDigits, money as formatMoney, say } from "./format.js";
import { describe, openHistory } from "./history.js";
import { resetTransactionParts, showTransactionParts, updateTransactionForm } from "./txform.js";

// `digits`: the ledger currency's fraction digits, as the API writes its amounts.
export const state = { ledgers: [], ledger: null, categories: [], cursor: null, digits: 2 };
let loading = new AbortController(); // the view's load in progress (or the last one)

export const money = (amount) => formatMoney(amount, state.ledger ? state.ledger.currency : "USD");

// A transaction (or a line of one) in another currency than the ledger's: its own amount in its
// currency, beside the ledger amount the list shows ("€12.34 at 1.0842"); null in the ledger's.
const foreign = (t) => t.currency && state.ledger && t.currency !== state.ledger.currency;
export const ledgerMoney = (t) => money(t.ledgerAmount ?? t.amount);
const original = (amount, t) =>
  `${formatMoney(amount, t.currency, digitsOf(t.currency))} at ${t.rate}`;

export function monthParts() {
  const [year, month] = $("month").value.split("-").map(Number);
  return { year, month };
}

// The date a new transaction gets: today in this month, else the month's first day.
export function defaultDate() {
  const { year, month } = monthParts();
  const today = new Date();
  const sameMonth = today.getFullYear() === year && today.getMonth() + 1 === month;
  const day = sameMonth ? today.getDate() : 1;
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

// A button's action: a refusal (a viewer deleting, an expired invitation) is said, not thrown;
// a load cancelled by a newer one is nothing to say.
export const act = (action) => async (...args) => {
  try {
    await action(...args);
  } catch (error) {
    if (isCancelled(error)) return;
    if (!(error instanceof Problem)) throw error;
    say(error.message);
  }
};

// A budget refusal in plain words, for the transaction form. A budget that carried something
// over from the month before says so; one of another month than the one shown names its month
// (an expense can lower what a later month of a rollover chain has available).
export function explainProblem(body) {
  if (body.code !== "budget_exceeded" || !body.budget) return null;
  const budget = body.budget;
  let which = budget.categoryId === null ? "your overall budget"
    : `the ${state.categories.find((c) => c.id === budget.categoryId)?.name ?? "category"} budget`;
  const { year, month } = monthParts();
  if (budget.year && (budget.year !== year || budget.month !== month)) {
    which += ` for ${monthName(budget.year, budget.month)}`;
  }
  const carried = budget.carried && /[1-9]/.test(budget.carried)
    ? ` ${budget.carried.startsWith("-") ? "less" : "plus"} ${money(budget.carried.replace(/^-/, ""))}` +
      ` carried over (${money(budget.available)} available)`
    : "";
  return `Not saved: this expense would put ${which} over by ${money(budget.wouldExceedBy)}. ` +
    `The budget is ${money(budget.amount)}${carried}, ${money(budget.spent)} is already spent and ` +
    `${money(budget.remaining)} remains.`;
}

// "March 2026", in the browser's language.
export const monthName = (year, month) => new Intl.DateTimeFormat(navigator.language,
  { month: "long", year: "numeric", timeZone: "UTC" }).format(new Date(Date.UTC(year, month - 1, 1)));

// ---- ledgers and the month's view --------------------------------------------------------------

export async function loadLedgers(selectId) {
  state.ledgers = (await api("GET", "/api/ledgers")).items;
  const select = $("ledger");
  const keep = selectId ?? state.ledger?.id;
  select.replaceChildren(...state.ledgers.map((l) =>
    el("option", { value: l.id }, `${l.name} (${l.currency}, ${l.role})`)));
  state.ledger = state.ledgers.find((l) => l.id === keep) ?? state.ledgers[0];
  select.value = state.ledger.id;
  await Promise.all([loadView(), loadIncomingInvitations()]);
}

export function pickLedger(id) {
  state.ledger = state.ledgers.find((l) => String(l.id) === id);
  return loadView();
}

// Everything shown for the picked ledger and month. Resolves when drawn, or when a newer load
// has taken its place.
export async function loadView() {
  loading.abort();
  loading = new AbortController();
  const { signal } = loading;
  const base = `/api/ledgers/${state.ledger.id}`;
  const get = (path) => api("GET", base + path, undefined, { signal });
  const { year, month } = monthParts();
  const period = `year=${year}&month=${month}`;
  try {
    const [categories, summary, breakdown, usage, budgets, trends, alerts] = await Promise.all([
      get("/categories"),
      get(`/summary?${period}`),
      get(`/category-breakdown?${period}`),
      get(`/budget-usage?${period}`),
      get(`/budgets?${period}`),
      get("/trends?months=12"),
      get("/notifications?unread=true"),
    ]);
    signal.throwIfAborted();
    state.categories = categories.items;
    state.digits = fractionDigits(summary.totalIncome);
    fillCategorySelects();
    updateTransactionForm();
    $("income").textContent = money(summary.totalIncome);
    $("expense").textContent = money(summary.totalExpense);
    $("savings").textContent = money(summary.savings);
    $("savings-rate").textContent = summary.savingsRate === null ? "" : `${summary.savingsRate}% of income`;
    drawBreakdown($("breakdown"), breakdown.items, money);
    drawBudgets($("budgets"), usage.items, budgets.items, money);
    drawTrend($("trend"), trends.items, money, state.ledger.currency);
    showAlerts(alerts.items, budgets.items);
    await Promise.all([loadTransactions(true), loadHousehold()]);
  } catch (error) {
    if (!isCancelled(error)) throw error;
  }
}

function fillCategorySelects() {
  const options = () => state.categories.map((c) => el("option", { value: c.id }, c.name));
  const tx = $("tx-form").elements.categoryId;
  const keep = tx.value;
  tx.replaceChildren(...options());
  if (keep) tx.value = keep;
  $("budget-form").elements.categoryId.replaceChildren(
    el("option", { value: "" }, "Overall (all expenses)"), ...options());
}

function showAlerts(alerts, budgets) {
  const names = Object.fromEntries(budgets.map((b) => [b.id, b.category ?? "Overall"]));
  const list = $("alerts-list");
  if (!alerts.length) return list.replaceChildren(el("li", { class: "muted" }, "No unread alerts."));
  list.replaceChildren(...alerts.map((a) => el("li", {},
    el("span", {}, `${names[a.budgetId] ?? "A"} budget ${a.kind === "limit" ? "reached its limit" : "passed its alert threshold"}: ${a.percentUsed}% used`),
    el("button", { type: "button", class: "link", onclick: act(async () => {
      await api("POST", `/api/ledgers/${state.ledger.id}/notifications/${a.id}/read`);
      await loadView();
    }) }, "Mark read"))));
}

// ---- transactions ------------------------------------------------------------------------------

// The month's transactions from the start, or the next page (part of the current view's load).
export async function loadTransactions(fromStart) {
  const { signal } = loading;
  const { year, month } = monthParts();
  let path = `/api/ledgers/${state.ledger.id}/transactions?year=${year}&month=${month}&limit=10`;
  if (!fromStart) path += `&cursor=${encodeURIComponent(state.cursor)}`;
  const page = await api("GET", path, undefined, { signal });
  signal.throwIfAborted();
  const rows = page.items.map((t) => el("tr", { "data-id": t.id },
    el("td", {}, t.date),
    el("td", {}, categoryCell(t)),
    el("td", {}, t.payee ?? ""),
    el("td", {}, t.description ?? "", ...(t.tags?.length
      ? [el("ul", { class: "chips", "aria-label": "Tags" }, ...t.tags.map((tag) => el("li", { class: "chip" }, tag)))]
      : [])),
    el("td", { class: `num ${t.type === "INCOME" ? "income" : ""}` },
      `${t.type === "INCOME" ? "+" : "−"}${ledgerMoney(t)}`,
      ...(foreign(t) ? [el("span", { class: "muted original" }, original(t.amount, t))] : [])),
    el("td", {},
      el("button", { type: "button", class: "link", "aria-label": `Edit ${describe(t)}`,
        onclick: () => editTransaction(t) }, "Edit"),
      el("button", { type: "button", class: "link", "aria-label": `Delete ${describe(t)}`,
        onclick: act(() => deleteTransaction(t)) }, "Delete"),
      el("button", { type: "button", class: "link", "aria-label": `History of ${describe(t)}`,
        onclick: (event) => openHistory(state.ledger, t, event.currentTarget) }, "History"))));
  if (fromStart) $("tx-list").replaceChildren(...rows); else $("tx-list").append(...rows);
  state.cursor = page.nextCursor;
  $("more").hidden = !page.nextCursor;
}

// A split transaction's category: "Split (3)", its lines (category, amount, memo) on expanding it
// and their categories on hover.
export function categoryCell(t) {
  if (!t.splits?.length) return t.category;
  return el("details", { class: "split" },
    el("summary", { title: t.splits.map((line) => line.category).join(", ") }, `Split (${t.splits.length})`),
    el("ul", { class: "plain split-lines" }, ...t.splits.map((line) => el("li", {},
      el("span", {}, line.category, ...(line.memo ? [el("span", { class: "muted" }, ` (${line.memo})`)] : [])),
      el("span", { class: "num" }, money(line.ledgerAmount ?? line.amount),
        ...(foreign(t) ? [el("span", { class: "muted original" }, original(line.amount, t))] : []))))));
}

const categoryText = (t) => t.category ?? `split into ${t.splits.length} lines`;

function editTransaction(t) {
  const form = $("tx-form");
  clearErrors(form);
  for (const k of ["id", "type", "amount", "categoryId", "date"]) form.elements[k].value = t[k];
  form.elements.description.value = t.description ?? "";
  showTransactionParts(t);
  $("tx-legend").textContent = "Edit the transaction";
  $("tx-submit").textContent = "Save";
  $("tx-cancel").hidden = false;
  form.elements.amount.focus();
}

export function resetTransactionForm() {
  const form = $("tx-form");
  const category = form.elements.categoryId.value;
  form.reset();
  form.elements.id.value = "";
  if (category) form.elements.categoryId.value = category;
  form.elements.date.value = defaultDate();
  resetTransactionParts();
  $("tx-legend").textContent = "Add a transaction";
  $("tx-submit").textContent = "Add";
  $("tx-cancel").hidden = true;
}

async function deleteTransaction(t) {
  if (!window.confirm(`Delete ${ledgerMoney(t)} (${categoryText(t)}, ${t.date})?`)) return;
  await api("DELETE", `/api/ledgers/${state.ledger.id}/transactions/${t.id}`);
  say("Transaction deleted.");
  await loadView();
}

// ---- household: members and invitations --------------------------------------------------------

export async function loadHousehold() {
  const { signal } = loading;
  const base = `/api/ledgers/${state.ledger.id}`;
  const members = (await api("GET", `${base}/members`, undefined, { signal })).items;
  signal.throwIfAborted();
  $("members").replaceChildren(...members.map((m) =>
    el("li", {}, el("span", {}, `${m.name} <${m.email}>`), el("span", { class: "muted" }, m.role))));
  const owner = state.ledger.role === "owner";
  $("owner-only").hidden = !owner;
  // A viewer reads only: the forms that write are not offered (the API would refuse them).
  const viewer = state.ledger.role === "viewer";
  for (const id of ["tx-form", "category-form", "budget-form", "budgets-copy"]) $(id).hidden = viewer;
  if (!owner) return;
  const invitations = (await api("GET", `${base}/invitations`, undefined, { signal })).items;
  signal.throwIfAborted();
  $("invitations").replaceChildren(...invitations.map((i) => el("li", {},
    el("span", {}, `${i.email} as ${i.role}`), el("span", { class: "muted" }, i.status))));
}

async function loadIncomingInvitations() {
  const pending = (await api("GET", "/api/invitations")).items;
  $("invites-in").hidden = !pending.length;
  $("invites-in-list").replaceChildren(...pending.map((i) => el("li", {},
    el("span", {}, `${i.invitedBy?.name ?? "Someone"} invites you to ${i.ledgerName} as ${i.role}`),
    el("button", { type: "button", onclick: act(async () => {
      const ledger = await api("POST", `/api/invitations/${i.id}/accept`);
      await loadLedgers(ledger.id);
      say(`You joined ${ledger.name}.`);
    }) }, `Accept ${i.ledgerName}`))));
}

export function showSignedIn() {
  $("signed-out").hidden = true;
  $("signed-in").hidden = false;
  $("session").hidden = false;
  $("who").textContent = session.user.name;
}

// The sign-in screen. Pages that showed something once (recovery codes, a new access token)
// forget it on the "signed-out" event, so the next person at this browser never sees it.
export function showSignedOut() {
  loading.abort();
  $("signed-in").hidden = true;
  $("session").hidden = true;
  $("signed-out").hidden = false;
  document.dispatchEvent(new Event("signed-out"));
}

// The session is over (signed out here, ended from the sessions list, the account deleted).
export function endSignedIn(message) {
  signOut();
  showSignedOut();
  say(message);
}
