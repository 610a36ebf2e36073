// The household dashboard: a client of the REST API like any other (see api/dashboard.py).
// The access token lives in this module's memory only; the refresh token is an HttpOnly cookie
// the page never sees, renewed with the CSRF value of the readable csrf_refresh_token cookie.

const state = { access: null, user: null, ledgers: [], ledger: null, categories: [], cursor: null };
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

// ---- the API ----------------------------------------------------------------------------------

class Problem extends Error {
  constructor(status, body) {
    super(body.detail || body.title || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

function csrfValue() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("csrf_refresh_token="));
  return found ? decodeURIComponent(found.split("=")[1]) : null;
}

async function refresh() {
  const csrf = csrfValue();
  if (!csrf) return false;
  const response = await fetch("/api/auth/refresh", {
    method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin",
  });
  if (!response.ok) return false;
  const body = await response.json();
  state.access = body.accessToken;
  state.user = body.user;
  return true;
}

async function api(method, path, body, retried = false) {
  const headers = {};
  if (state.access) headers.Authorization = `Bearer ${state.access}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && state.access && !retried && (await refresh())) {
    return api(method, path, body, true);
  }
  if (response.status === 204) return null;
  const data = await response.json();
  if (!response.ok) throw new Problem(response.status, data);
  return data;
}

const inLedger = (path) => `/api/ledgers/${state.ledger.id}${path}`;

// ---- formatting -------------------------------------------------------------------------------

function money(amount) {
  // Amounts arrive as exact decimal strings; Intl formats them for the browser's locale.
  const currency = state.ledger ? state.ledger.currency : "USD";
  return new Intl.NumberFormat(navigator.language, { style: "currency", currency }).format(amount);
}

function monthParts() {
  const [year, month] = $("month").value.split("-").map(Number);
  return { year, month };
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function say(text) { $("status").textContent = text; }

// A button's action: a refusal (a viewer deleting, an expired invitation) is said, not thrown.
const act = (action) => async (...args) => {
  try {
    await action(...args);
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    say(error.message);
  }
};

// ---- forms and their errors -------------------------------------------------------------------

function clearErrors(form) {
  for (const p of form.querySelectorAll(".error")) p.textContent = "";
  for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
}

function showProblem(form, error) {
  if (!(error instanceof Problem)) throw error;
  const body = error.body;
  let general = body.detail || body.title;
  if (body.code === "budget_exceeded" && body.budget) general = budgetRefusal(body.budget);
  if (body.code === "validation_error" && body.errors) {
    general = "Please correct the fields marked below.";
    for (const [field, messages] of Object.entries(body.errors)) {
      const slot = form.querySelector(`.error[data-for="${field}"]`);
      const input = form.elements[field];
      if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
      if (slot) slot.textContent = [].concat(messages).join(" ");
      else general += ` ${field}: ${[].concat(messages).join(" ")}`;
    }
  }
  form.querySelector('.error[data-for="form"]').textContent = general;
}

function budgetRefusal(budget) {
  const category = budget.categoryId === null ? "your overall budget"
    : `the ${state.categories.find((c) => c.id === budget.categoryId)?.name ?? "category"} budget`;
  return `Not saved: this expense would put ${category} over by ${money(budget.wouldExceedBy)}. ` +
    `The budget is ${money(budget.amount)}, ${money(budget.spent)} is already spent and ` +
    `${money(budget.remaining)} remains.`;
}

function values(form) {
  const data = {};
  for (const [k, v] of new FormData(form).entries()) data[k] = v;
  return data;
}

function onSubmit(form, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      await handler(values(form));
    } catch (error) {
      showProblem(form, error);
    } finally {
      button.disabled = false;
    }
  });
}

// ---- signing in and out -----------------------------------------------------------------------

async function login(email, password) {
  const body = await api("POST", "/api/auth/login", { email, password, refreshCookie: true });
  state.access = body.accessToken;
  state.user = body.user;
  await start();
}

onSubmit($("signin"), (v) => login(v.email, v.password));
onSubmit($("register"), async (v) => {
  await api("POST", "/api/auth/register", {
    name: v.name, email: v.email, password: v.password, currency: v.currency.trim().toUpperCase(),
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
  });
  await login(v.email, v.password);
});

$("logout").addEventListener("click", async () => {
  try { await api("POST", "/api/auth/logout"); } catch { /* the session is gone either way */ }
  state.access = null;
  showSignedOut();
  say("Signed out.");
});

function showSignedOut() {
  $("signed-in").hidden = true;
  $("session").hidden = true;
  $("signed-out").hidden = false;
}

async function start() {
  $("signed-out").hidden = true;
  $("signed-in").hidden = false;
  $("session").hidden = false;
  $("who").textContent = state.user.name;
  await loadLedgers();
}

// ---- ledgers, month and everything in them ----------------------------------------------------

async function loadLedgers(selectId) {
  state.ledgers = (await api("GET", "/api/ledgers")).items;
  const select = $("ledger");
  const keep = selectId ?? state.ledger?.id;
  select.replaceChildren(...state.ledgers.map((l) =>
    el("option", { value: l.id }, `${l.name} (${l.currency}, ${l.role})`)));
  state.ledger = state.ledgers.find((l) => l.id === keep) ?? state.ledgers[0];
  select.value = state.ledger.id;
  await Promise.all([refreshAll(), loadIncomingInvitations()]);
}

$("ledger").addEventListener("change", act(async (event) => {
  state.ledger = state.ledgers.find((l) => String(l.id) === event.target.value);
  await refreshAll();
}));
$("month").addEventListener("change", act(() => refreshAll()));

async function refreshAll() {
  const { year, month } = monthParts();
  const period = `year=${year}&month=${month}`;
  const [categories, summary, breakdown, usage, budgets, trends, alerts] = await Promise.all([
    api("GET", inLedger("/categories")),
    api("GET", inLedger(`/summary?${period}`)),
    api("GET", inLedger(`/category-breakdown?${period}`)),
    api("GET", inLedger(`/budget-usage?${period}`)),
    api("GET", inLedger(`/budgets?${period}`)),
    api("GET", inLedger("/trends?months=12")),
    api("GET", inLedger("/notifications?unread=true")),
  ]);
  state.categories = categories.items;
  fillCategorySelects();
  $("income").textContent = money(summary.totalIncome);
  $("expense").textContent = money(summary.totalExpense);
  $("savings").textContent = money(summary.savings);
  $("savings-rate").textContent = summary.savingsRate === null ? "" : `${summary.savingsRate}% of income`;
  drawBreakdown(breakdown.items);
  drawBudgets(usage.items, budgets.items);
  drawTrend(trends.items);
  showAlerts(alerts.items, budgets.items);
  await Promise.all([loadTransactions(true), loadHousehold()]);
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

// ---- charts: plain SVG ------------------------------------------------------------------------

function empty(target, text) { target.replaceChildren(el("p", { class: "muted" }, text)); }

function drawBreakdown(items) {
  const target = $("breakdown");
  if (!items.length) return empty(target, "No expenses this month.");
  const max = Math.max(...items.map((i) => Number(i.amount)));
  const row = 26;
  // Sized for a phone (320 units across); the text alternative carries the full names.
  const chart = svg("svg", { viewBox: `0 0 320 ${items.length * row}`, role: "img",
    "aria-label": "Spending by category: " + items.map((i) => `${i.category} ${money(i.amount)}`).join(", ") });
  items.forEach((item, n) => {
    const y = n * row;
    const label = item.category.length > 13 ? `${item.category.slice(0, 12)}…` : item.category;
    chart.append(
      svg("text", { x: 0, y: y + 16 }, label),
      svg("rect", { class: "bar-fill", x: 92, y: y + 4, height: 16,
        width: Math.max(1, (Number(item.amount) / max) * 110) }),
      svg("text", { x: 318, y: y + 16, "text-anchor": "end" }, `${money(item.amount)} · ${item.share}%`));
  });
  target.replaceChildren(chart);
}

function drawBudgets(usage, budgets) {
  const target = $("budgets");
  if (!usage.length) return empty(target, "No budgets this month.");
  const threshold = Object.fromEntries(budgets.map((b) => [b.id, b.alertThreshold]));
  const list = el("ul", { class: "plain" });
  for (const item of usage) {
    const used = Number(item.percentUsed);
    const over = Number(item.remaining) < 0 || used > 100;
    const mark = threshold[item.budgetId] ?? 80;
    const width = 300;
    const bar = svg("svg", { viewBox: `0 0 ${width} 24`, role: "img",
      "aria-label": `${used}% used, alert at ${mark}%${over ? ", over budget" : ""}` },
      svg("rect", { class: "bar-track", x: 0, y: 4, width, height: 16 }),
      svg("rect", { class: over ? "bar-over" : used >= mark ? "bar-warn" : "bar-fill", x: 0, y: 4,
        height: 16, width: Math.min(width, (used / 100) * width) }),
      svg("line", { class: "threshold", x1: (mark / 100) * width, x2: (mark / 100) * width, y1: 0, y2: 24 }));
    const name = item.category ?? "Overall";
    const words = over
      ? el("span", { class: "over" }, `Over budget by ${money(-Number(item.remaining))}`)
      : el("span", {}, `${money(item.remaining)} left`);
    list.append(el("li", { "data-budget": name },
      el("span", {}, `${name} (${item.mode}): ${money(item.spent)} of ${money(item.budget)}, ${item.percentUsed}%`),
      words, el("span", { class: "chart" }, bar)));
  }
  target.replaceChildren(list);
}

function drawTrend(items) {
  const target = $("trend");
  const w = 360, h = 170, pad = 24;
  const max = Math.max(1, ...items.flatMap((i) => [Number(i.income), Number(i.expense)]));
  const x = (n) => pad + (n * (w - 2 * pad)) / Math.max(1, items.length - 1);
  const y = (v) => h - pad - (Number(v) / max) * (h - 2 * pad);
  const line = (key) => items.map((i, n) => `${n ? "L" : "M"}${x(n).toFixed(1)},${y(i[key]).toFixed(1)}`).join("");
  const chart = svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img",
    "aria-label": "Income and expenses per month: " +
      items.map((i) => `${i.month} income ${money(i.income)}, expenses ${money(i.expense)}`).join("; ") },
    svg("line", { class: "axis", x1: pad, x2: w - pad, y1: h - pad, y2: h - pad }),
    svg("path", { class: "line-income", d: line("income") }),
    svg("path", { class: "line-expense", d: line("expense") }),
    svg("rect", { class: "legend-income", x: pad, y: 4, width: 10, height: 10 }),
    svg("text", { x: pad + 14, y: 13 }, "Income"),
    svg("rect", { class: "legend-expense", x: pad + 70, y: 4, width: 10, height: 10 }),
    svg("text", { x: pad + 84, y: 13 }, "Expenses"));
  items.forEach((i, n) => {
    if (n % 2 === items.length % 2) return;
    chart.append(svg("text", { x: x(n), y: h - 10, "text-anchor": "middle" }, i.month.slice(2)));
  });
  target.replaceChildren(chart);
}

// ---- alerts -----------------------------------------------------------------------------------

function showAlerts(alerts, budgets) {
  const names = Object.fromEntries(budgets.map((b) => [b.id, b.category ?? "Overall"]));
  const list = $("alerts-list");
  if (!alerts.length) return list.replaceChildren(el("li", { class: "muted" }, "No unread alerts."));
  list.replaceChildren(...alerts.map((a) => el("li", {},
    el("span", {}, `${names[a.budgetId] ?? "A"} budget ${a.kind === "limit" ? "reached its limit" : "passed its alert threshold"}: ${a.percentUsed}% used`),
    el("button", { type: "button", class: "link", onclick: act(async () => {
      await api("POST", inLedger(`/notifications/${a.id}/read`));
      await refreshAll();
    }) }, "Mark read"))));
}

// ---- transactions -----------------------------------------------------------------------------

async function loadTransactions(fromStart) {
  const { year, month } = monthParts();
  let path = inLedger(`/transactions?year=${year}&month=${month}&limit=10`);
  if (!fromStart) path += `&cursor=${encodeURIComponent(state.cursor)}`;
  const page = await api("GET", path);
  const rows = page.items.map((t) => el("tr", { "data-id": t.id },
    el("td", {}, t.date),
    el("td", {}, t.category),
    el("td", {}, t.description ?? ""),
    el("td", { class: `num ${t.type === "INCOME" ? "income" : ""}` },
      `${t.type === "INCOME" ? "+" : "−"}${money(t.amount)}`),
    el("td", {},
      el("button", { type: "button", class: "link", "aria-label": `Edit ${t.description || t.category} ${t.date}`,
        onclick: () => editTransaction(t) }, "Edit"),
      el("button", { type: "button", class: "link", "aria-label": `Delete ${t.description || t.category} ${t.date}`,
        onclick: act(() => deleteTransaction(t)) }, "Delete"))));
  if (fromStart) $("tx-list").replaceChildren(...rows); else $("tx-list").append(...rows);
  state.cursor = page.nextCursor;
  $("more").hidden = !page.nextCursor;
}

$("more").addEventListener("click", act(() => loadTransactions(false)));

function editTransaction(t) {
  const form = $("tx-form");
  clearErrors(form);
  for (const k of ["id", "type", "amount", "categoryId", "date"]) form.elements[k].value = t[k];
  form.elements.description.value = t.description ?? "";
  $("tx-legend").textContent = "Edit the transaction";
  $("tx-submit").textContent = "Save";
  $("tx-cancel").hidden = false;
  form.elements.amount.focus();
}

function resetTransactionForm() {
  const form = $("tx-form");
  const category = form.elements.categoryId.value;
  form.reset();
  form.elements.id.value = "";
  form.elements.categoryId.value = category;
  form.elements.date.value = defaultDate();
  $("tx-legend").textContent = "Add a transaction";
  $("tx-submit").textContent = "Add";
  $("tx-cancel").hidden = true;
}

$("tx-cancel").addEventListener("click", () => { clearErrors($("tx-form")); resetTransactionForm(); });

async function deleteTransaction(t) {
  if (!window.confirm(`Delete ${money(t.amount)} (${t.category}, ${t.date})?`)) return;
  await api("DELETE", inLedger(`/transactions/${t.id}`));
  say("Transaction deleted.");
  await refreshAll();
}

onSubmit($("tx-form"), async (v) => {
  const body = { type: v.type, amount: v.amount.trim(), date: v.date,
    categoryId: v.categoryId ? Number(v.categoryId) : null, description: v.description || null };
  const saved = v.id
    ? await api("PATCH", inLedger(`/transactions/${v.id}`), body)
    : await api("POST", inLedger("/transactions"), body);
  say(`${v.id ? "Saved" : "Added"} ${money(saved.amount)} in ${saved.category}.` +
    (saved.alerts.length ? ` ${saved.alerts.length} budget alert(s).` : ""));
  resetTransactionForm();
  await refreshAll();
});

onSubmit($("category-form"), async (v) => {
  const saved = await api("POST", inLedger("/categories"), { name: v.name });
  $("category-form").reset();
  say(`Category ${saved.name} added.`);
  await refreshAll();
  $("tx-form").elements.categoryId.value = saved.id;
});

onSubmit($("budget-form"), async (v) => {
  const { year, month } = monthParts();
  const body = { year, month, amount: v.amount.trim(), mode: v.mode,
    categoryId: v.categoryId ? Number(v.categoryId) : null,
    alertThreshold: v.alertThreshold === "" ? undefined : Number(v.alertThreshold) };
  await api("POST", inLedger("/budgets"), body);
  $("budget-form").elements.amount.value = "";
  say("Budget saved.");
  await refreshAll();
});

// ---- household: members and invitations -------------------------------------------------------

async function loadHousehold() {
  const members = (await api("GET", `/api/ledgers/${state.ledger.id}/members`)).items;
  $("members").replaceChildren(...members.map((m) =>
    el("li", {}, el("span", {}, `${m.name} <${m.email}>`), el("span", { class: "muted" }, m.role))));
  const owner = state.ledger.role === "owner";
  $("owner-only").hidden = !owner;
  // A viewer reads only: the forms that write are not offered (the API would refuse them).
  const viewer = state.ledger.role === "viewer";
  for (const id of ["tx-form", "category-form", "budget-form"]) $(id).hidden = viewer;
  if (!owner) return;
  const invitations = (await api("GET", `/api/ledgers/${state.ledger.id}/invitations`)).items;
  $("invitations").replaceChildren(...invitations.map((i) => el("li", {},
    el("span", {}, `${i.email} as ${i.role}`), el("span", { class: "muted" }, i.status))));
}

onSubmit($("invite-form"), async (v) => {
  await api("POST", `/api/ledgers/${state.ledger.id}/invitations`, { email: v.email, role: v.role });
  $("invite-form").reset();
  say(`Invitation sent to ${v.email}.`);
  await loadHousehold();
});

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

// ---- start ------------------------------------------------------------------------------------

function defaultDate() {
  const { year, month } = monthParts();
  const today = new Date();
  const sameMonth = today.getFullYear() === year && today.getMonth() + 1 === month;
  const day = sameMonth ? today.getDate() : 1;
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

(async () => {
  const today = new Date();
  $("month").value = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, "0")}`;
  $("tx-form").elements.date.value = defaultDate();
  $("month").addEventListener("change", () => { $("tx-form").elements.date.value = defaultDate(); });
  try {
    if (await refresh()) return await start();
  } catch (error) {
    say(error.message);
  }
  showSignedOut();
})();
