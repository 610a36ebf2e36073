// The Import page (`#imports`, and one import's own page `#imports/ID`): a bank file uploaded
// into a preview (POST /api/ledgers/{id}/imports, multipart), its rows with the decision the
// service took for each and why, a row's category or decision changed before the commit, the
// commit (one body of per-line overrides), a preview discarded, the ledger's past imports, and a
// committed import undone from its page. Loading another import (or leaving the page) cancels
// what the one before had in flight.

import { api, isCancelled, Problem } from "./api.js";
import { entryTime } from "./changes.js";
import { showProblem } from "./forms.js";
import { $, el, fractionDigits, fromMinor, money, say, toMinor } from "./format.js";

const ROWS_PAGE = 50;
const DECISIONS = { new: "New", duplicate: "Duplicate", match: "Match", invalid: "Invalid" };
const STATUSES = { preview: "Preview", committed: "Committed", discarded: "Discarded", undone: "Undone" };
const FORMATS = { csv: "CSV", ofx: "OFX", qif: "QIF", camt053: "CAMT.053", mt940: "MT940" };

// `ledgerState` is views.js's state (the picked ledger); `overviewChanged` draws the overview
// anew after a commit or an undo changed the ledger; the rest is the open import's.
let ledgerState = null;
let overviewChanged = () => {};
const view = { imp: null, rows: new Map(), cursor: null, overrides: new Map(), categories: [] };
let listCursor = null;
let loading = new AbortController(); // the page's loads in progress (or the last ones)

const base = () => `/api/ledgers/${ledgerState.ledger.id}`;
const currency = () => ledgerState.ledger.currency;
const writer = () => ledgerState.ledger.role !== "viewer";
// Amounts exactly as the API wrote them (its digits; an invalid row's as the file gave them).
const amountText = (amount) => money(amount, currency(), fractionDigits(amount));
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

// ---- the page and its address -------------------------------------------------------------

export function setUpImports(state, changed) {
  ledgerState = state;
  overviewChanged = changed;
  $("import-form").addEventListener("submit", upload);
  $("import-rows-more").addEventListener("click", () => guard(() => loadRows(loading.signal, false)));
  $("imports-more").addEventListener("click", () => guard(() => loadList(loading.signal, false)));
  $("import-commit").addEventListener("click", () => guard(commit));
  $("import-discard").addEventListener("click", () => guard(discard));
  $("import-undo").addEventListener("click", () => guard(undo));
}

// The page shown (pages.js): `opened` is the import its address names (`#imports/12`), null for
// the form and the list alone; `shown` false when another page took its place, which cancels
// what this one had in flight.
export function showImports(shown, opened = null) {
  loading.abort();
  loading = new AbortController();
  if (!shown || !ledgerState?.ledger) return;
  $("import-form").hidden = !writer();
  $("import-view").hidden = opened === null;
  const { signal } = loading;
  guard(() => Promise.all([loadList(signal, true), opened === null ? null : openImport(opened, signal)]));
}

// Another ledger picked: its imports (an import open belongs to the ledger before).
export function ledgerChanged() {
  if ($("imports-page").hidden) return;
  if (window.location.hash === "#imports") showImports(true); else window.location.hash = "#imports";
}

// An action of the page: a refusal or a network failure is said in the import's alert (or
// the status line when no import is open); a cancelled load says nothing.
async function guard(action) {
  try {
    await action();
  } catch (error) {
    if (isCancelled(error)) return;
    if (!(error instanceof Problem) && !(error instanceof TypeError)) throw error;
    const where = $("import-view").hidden ? $("status") : $("import-problem");
    where.textContent = problemText(error);
  }
}

function problemText(error) {
  if (!(error instanceof Problem)) return `The service could not be reached: ${error.message}`;
  const body = error.body;
  if (body.code === "validation_error" && body.errors) {
    // A commit's overrides are named by line: rows.4.categoryId.
    const parts = Object.entries(body.errors).map(([field, messages]) => {
      const line = /^rows\.(\d+)/.exec(field);
      return `${line ? `Line ${line[1]}` : field}: ${[].concat(messages).join(" ")}`;
    });
    return `Not done: ${parts.join(" ")}`;
  }
  return error.message;
}

// ---- uploading ------------------------------------------------------------------------------

// The largest file one import takes (the service's MAX_BYTES, domain/bankfiles: 20 MB).
const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

// A refusal of the file itself in plain words (the field's own message goes next to it).
function explainUpload(body) {
  if (body.status === 413 || body.code === "payload_too_large") {
    return "Not uploaded: the file is larger than 20 MB, the most one import takes.";
  }
  if (body.code === "unknown_format") {
    return "Not uploaded: this is not a bank file the service reads (CSV, OFX or QFX, QIF, " +
      "CAMT.053 or MT940). If it is one, pick its format.";
  }
  if (body.code !== "unreadable_file") return null;
  const why = [].concat(body.errors?.file ?? body.errors?.mapping ?? []).join(" ") || body.detail;
  if (body.columns) {
    return `Not uploaded: the service cannot tell which column is which (it saw ${body.columns
      .map((c) => `"${c}"`).join(", ")}). ${why}`;
  }
  const where = body.line === null || body.line === undefined ? "" : ` at line ${body.line}`;
  return `Not uploaded: the file cannot be read${where}. ${why}`;
}

async function upload(event) {
  event.preventDefault();
  const form = $("import-form");
  for (const p of form.querySelectorAll(".error")) p.textContent = "";
  for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
  const file = form.elements.file.files[0];
  if (!file) {
    form.elements.file.setAttribute("aria-invalid", "true");
    form.querySelector('.error[data-for="file"]').textContent = "Choose a bank file first.";
    return;
  }
  if (file.size > MAX_UPLOAD_BYTES) {
    // The service would refuse it (413) after the whole file crossed the network: say so now.
    form.querySelector('.error[data-for="form"]').textContent = explainUpload({ status: 413 });
    return;
  }
  const data = new FormData();
  data.append("file", file, file.name);
  const account = form.elements.account.value.trim();
  if (account) data.append("account", account);
  if (form.elements.format.value) data.append("format", form.elements.format.value);
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  say(`Uploading ${file.name}…`);
  try {
    const created = await api("POST", `${base()}/imports`, data);
    form.reset();
    say(`${file.name} read: ${countsText(created.counts)}. Nothing is written until you commit.`);
    window.location.hash = `#imports/${created.id}`;
  } catch (error) {
    say("");
    if (error instanceof TypeError) {
      form.querySelector('.error[data-for="form"]').textContent =
        `Not uploaded: the service could not be reached (${error.message}).`;
    } else {
      showProblem(form, error, explainUpload);
    }
  } finally {
    button.disabled = false;
  }
}

// ---- one import: its page -----------------------------------------------------------------

const countsText = (counts) =>
  Object.keys(DECISIONS).map((d) => `${counts[d]} ${DECISIONS[d].toLowerCase()}`).join(", ");

async function openImport(id, signal) {
  Object.assign(view, { imp: null, rows: new Map(), cursor: null, overrides: new Map() });
  $("import-view-title").textContent = `Import ${id}`;
  for (const id of ["import-meta", "import-problem", "import-plan"]) $(id).textContent = "";
  $("import-counts").replaceChildren();
  $("import-result").replaceChildren();
  $("import-rows").replaceChildren();
  for (const id of ["import-commit", "import-discard", "import-undo", "import-rows-more"]) $(id).hidden = true;
  $("import-state").textContent = "Loading the import…";
  const [imp, categories] = await Promise.all([
    api("GET", `${base()}/imports/${id}`, undefined, { signal }),
    api("GET", `${base()}/categories`, undefined, { signal }),
  ]);
  signal.throwIfAborted();
  view.categories = categories.items;
  showImport(imp);
  await loadRows(signal, true);
  $("import-view-title").focus();
}

function showImport(imp) {
  view.imp = imp;
  $("import-view-title").textContent = `Import ${imp.id}: ${imp.fileName ?? "a bank file"}`;
  const when = entryTime(imp.createdAt, ledgerState.ledger.timezone, navigator.language);
  $("import-meta").textContent =
    `${FORMATS[imp.format] ?? imp.format}, account "${imp.account}", uploaded ${when}. ` +
    `Status: ${STATUSES[imp.status] ?? imp.status}.`;
  $("import-counts").replaceChildren(...Object.keys(DECISIONS).map((d) =>
    el("li", {}, el("span", { class: `badge badge-${d}` }, DECISIONS[d]), ` ${imp.counts[d]}`)));
  const preview = imp.status === "preview";
  $("import-commit").hidden = !preview || !writer();
  $("import-discard").hidden = !preview || !writer();
  $("import-undo").hidden = imp.status !== "committed" || !writer();
  $("import-state").textContent = {
    preview: "A preview: nothing is written to the ledger until you commit it. Change a row's " +
      "category or action below.",
    committed: "Committed: its rows are transactions of the ledger.",
    discarded: "Discarded: nothing of it was written.",
    undone: "Undone: the transactions it created are deleted (those edited since are kept).",
  }[imp.status] ?? "";
  showResult(imp);
  showPlan();
}

// What a commit or an undo left: the budgets over their amount, the transactions kept.
function showResult(imp) {
  const parts = [];
  if (imp.overBudget?.length) {
    const digits = fractionDigits(imp.overBudget[0].amount);
    parts.push(el("h3", {}, "Over budget after this import"), el("ul", { class: "plain over-budget" },
      ...imp.overBudget.map((b) => {
        const over = fromMinor(toMinor(b.spent, digits) - toMinor(b.amount, digits), digits);
        const name = b.categoryId === null ? "Overall"
          : view.categories.find((c) => c.id === b.categoryId)?.name ?? `Category ${b.categoryId}`;
        const month = new Intl.DateTimeFormat(navigator.language, { month: "long", year: "numeric", timeZone: "UTC" })
          .format(new Date(Date.UTC(b.year, b.month - 1, 1)));
        return el("li", {}, el("span", { class: "over" }, `${name}, ${month} (${b.mode}): ` +
          `${amountText(b.spent)} spent of ${amountText(b.amount)}, over by ${amountText(over)}`));
      })));
  }
  if (imp.kept?.length) {
    const named = imp.kept.map((id) => {
      const row = [...view.rows.values()].find((r) => r.transactionId === id);
      return row ? `${row.payee || row.description} ${row.date} (transaction ${id})` : `transaction ${id}`;
    });
    parts.push(el("p", { class: "kept" },
      `Kept ${plural(imp.kept.length, "transaction")} edited since the commit: ${named.join("; ")}.`));
  }
  $("import-result").replaceChildren(...parts);
}

async function loadRows(signal, fromStart) {
  const imp = view.imp;
  let path = `${base()}/imports/${imp.id}/rows?limit=${ROWS_PAGE}`;
  if (!fromStart) path += `&cursor=${encodeURIComponent(view.cursor)}`;
  const more = $("import-rows-more");
  more.disabled = true;
  try {
    const page = await api("GET", path, undefined, { signal });
    signal.throwIfAborted();
    if (fromStart) view.rows = new Map();
    for (const row of page.items) view.rows.set(row.line, row);
    const drawn = page.items.map(rowOf);
    if (fromStart) $("import-rows").replaceChildren(...drawn); else $("import-rows").append(...drawn);
    view.cursor = page.nextCursor;
    more.hidden = !page.nextCursor;
    if (!fromStart && drawn.length) drawn[0].querySelector("th").focus();
    if (imp.kept?.length) showResult(imp);
    showPlan();
  } finally {
    more.disabled = false;
  }
}

// What a row becomes: the override the person chose (if any) over the service's decision.
function choiceOf(row) {
  return view.overrides.get(row.line)?.decision ?? "";
}

function importedAsNew(row) {
  const choice = choiceOf(row);
  return (row.decision === "new" && choice !== "skip") || (row.decision === "match" && choice === "new");
}

function rowOf(row) {
  const preview = view.imp.status === "preview" && writer();
  const zero = !/[1-9]/.test(row.amount ?? "");
  const sign = zero ? "" : row.type === "INCOME" ? "+" : row.type === "EXPENSE" ? "−" : "";
  const category = preview ? categorySelect(row) : categoryName(row);
  const tr = el("tr", { "data-line": row.line, class: row.skip ? "skipped" : "" },
    el("th", { scope: "row", class: "num", tabindex: "-1" }, String(row.line)),
    el("td", { class: "nowrap" }, row.date ?? "—"),
    el("td", {}, row.payee ?? ""),
    el("td", {}, row.description ?? ""),
    el("td", { class: `num nowrap ${row.type === "INCOME" ? "income" : ""}` },
      row.amount === null ? "—" : `${sign}${amountText(row.amount)}`),
    el("td", {}, el("span", { class: `badge badge-${row.decision}` }, DECISIONS[row.decision] ?? row.decision),
      ...(row.skip ? [" ", el("span", { class: "badge badge-skip" }, "Skipped")] : [])),
    el("td", {}, row.reason ?? ""),
    el("td", {}, category),
    el("td", {}, preview ? actionSelect(row, category) : outcome(row)));
  return tr;
}

const rowName = (row) => `line ${row.line}`;

function categoryName(row) {
  if (row.decision !== "new" || row.skip) return "";
  if (row.categoryId === null) return "Uncategorized";
  return view.categories.find((c) => c.id === row.categoryId)?.name ?? `Category ${row.categoryId}`;
}

function categorySelect(row) {
  if (row.decision === "duplicate" || row.decision === "invalid") return "";
  const options = view.categories.map((c) => el("option", { value: c.id }, c.name));
  // The API takes another category, never none: "Uncategorized" only while the row has none.
  if (row.categoryId === null) options.unshift(el("option", { value: "" }, "Uncategorized"));
  const select = el("select", { "aria-label": `Category of ${rowName(row)}`, class: "compact" }, ...options);
  select.value = String(view.overrides.get(row.line)?.categoryId ?? row.categoryId ?? "");
  select.disabled = !importedAsNew(row);
  select.addEventListener("change", () => {
    const chosen = select.value === "" ? null : Number(select.value);
    override(row.line, "categoryId", chosen === row.categoryId ? undefined : chosen);
  });
  return select;
}

// `category`: the row's category select, usable only while the row is to be a new transaction.
function actionSelect(row, category) {
  if (row.decision === "duplicate") return "Not imported (already in the ledger)";
  if (row.decision === "invalid") return "Not imported";
  const options = row.decision === "match"
    ? [el("option", { value: "" }, `Link to transaction ${row.transactionId}`),
      el("option", { value: "new" }, "Import as new"), el("option", { value: "skip" }, "Skip")]
    : [el("option", { value: "" }, "Import"), el("option", { value: "skip" }, "Skip")];
  const select = el("select", { "aria-label": `Action for ${rowName(row)}`, class: "compact" }, ...options);
  select.value = choiceOf(row);
  select.addEventListener("change", () => {
    override(row.line, "decision", select.value || undefined);
    if (category instanceof HTMLSelectElement) category.disabled = !importedAsNew(row);
  });
  return select;
}

// What became of a row once the import was committed (or undone).
function outcome(row) {
  const { status, kept } = view.imp;
  if (row.skip) return "Skipped";
  if (!["committed", "undone"].includes(status) || !["new", "match"].includes(row.decision)) return "";
  const id = row.transactionId; // an undo's deleted transaction is no longer named
  if (status === "undone" && row.decision === "new") {
    return kept?.includes(id) ? `Kept: transaction ${id} (edited since)` : "Deleted by the undo";
  }
  if (id === null) return "";
  if (row.decision === "match") return status === "undone" ? `Unlinked from transaction ${id}` : `Linked to transaction ${id}`;
  return `Transaction ${id}`;
}

// One override of a line's (undefined: back to what the service decided).
function override(line, key, value) {
  const choice = { ...view.overrides.get(line) };
  if (value === undefined) delete choice[key]; else choice[key] = value;
  if (Object.keys(choice).length) view.overrides.set(line, choice); else view.overrides.delete(line);
  showPlan();
}

// What the commit will do, with the choices made so far.
function planned() {
  const imp = view.imp;
  let created = imp.counts.new;
  let linked = imp.counts.match;
  let skipped = 0;
  for (const [line, choice] of view.overrides) {
    const row = view.rows.get(line);
    if (!row || !choice.decision) continue;
    if (choice.decision === "skip") skipped += 1;
    if (row.decision === "new" && choice.decision === "skip") created -= 1;
    if (row.decision === "match") {
      linked -= 1;
      if (choice.decision === "new") created += 1;
    }
  }
  return { created, linked, skipped };
}

function showPlan() {
  if (view.imp?.status !== "preview") { $("import-plan").textContent = ""; return; }
  const { created, linked, skipped } = planned();
  $("import-plan").textContent = `Committing creates ${plural(created, "transaction")}, links ` +
    `${linked} to ${linked === 1 ? "one" : "ones"} entered by hand` +
    (skipped ? ` and skips ${skipped}` : "") + ".";
}

async function commit() {
  const imp = view.imp;
  const button = $("import-commit");
  button.disabled = true;
  $("import-problem").textContent = "";
  try {
    const plan = planned();
    const body = view.overrides.size ? { rows: Object.fromEntries(view.overrides) } : undefined;
    const done = await api("POST", `${base()}/imports/${imp.id}/commit`, body);
    say("");
    view.overrides = new Map();
    overviewChanged();
    view.imp = done; // the rows are drawn as the committed import's, then the import itself
    await loadRows(loading.signal, true);
    showImport(done);
    $("import-state").textContent = `Committed: ${plural(plan.created, "transaction")} created, ` +
      `${plan.linked} linked, ${plan.skipped} skipped.` + (done.overBudget?.length
      ? ` ${plural(done.overBudget.length, "budget")} ended over its amount (listed below).` : "");
    await loadList(loading.signal, true);
  } finally {
    button.disabled = false;
  }
}

async function discard() {
  const imp = view.imp;
  await api("DELETE", `${base()}/imports/${imp.id}`);
  say("");
  view.imp = { ...imp, status: "discarded" };
  await loadRows(loading.signal, true);
  showImport(view.imp);
  await loadList(loading.signal, true);
}

async function undo() {
  const imp = view.imp;
  if (!window.confirm(`Undo import ${imp.id}? The transactions it created are deleted, except ` +
    "those edited since.")) return;
  const button = $("import-undo");
  button.disabled = true;
  $("import-problem").textContent = "";
  try {
    const done = await api("POST", `${base()}/imports/${imp.id}/undo`);
    say("");
    overviewChanged();
    view.imp = done;
    await loadRows(loading.signal, true);
    showImport(done);
    $("import-state").textContent = "Undone: the transactions it created are deleted" +
      (done.kept?.length ? `, except ${plural(done.kept.length, "transaction")} edited since (listed below).` : ".");
    await loadList(loading.signal, true);
  } finally {
    button.disabled = false;
  }
}

// ---- the ledger's imports -------------------------------------------------------------------

async function loadList(signal, fromStart) {
  let path = `${base()}/imports?limit=20`;
  if (!fromStart) path += `&cursor=${encodeURIComponent(listCursor)}`;
  const page = await api("GET", path, undefined, { signal });
  signal.throwIfAborted();
  const timezone = ledgerState.ledger.timezone;
  const rows = page.items.map((imp) => el("tr", { "data-id": imp.id },
    el("td", {}, entryTime(imp.createdAt, timezone, navigator.language)),
    el("td", {}, el("a", { href: `#imports/${imp.id}` }, imp.fileName ?? `Import ${imp.id}`)),
    el("td", {}, imp.account),
    el("td", {}, STATUSES[imp.status] ?? imp.status),
    el("td", {}, countsText(imp.counts))));
  if (fromStart && !rows.length) {
    rows.push(el("tr", {}, el("td", { colspan: "5", class: "muted" }, "No imports yet.")));
  }
  if (fromStart) $("imports-list").replaceChildren(...rows); else $("imports-list").append(...rows);
  listCursor = page.nextCursor;
  $("imports-more").hidden = !page.nextCursor;
}
