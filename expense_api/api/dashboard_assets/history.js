// The History view of one transaction: its entries in the ledger's change log
// (GET /api/ledgers/{id}/changes?entity=transaction&entityId=N), newest first, a page at a time,
// in a modal <dialog> (focus moves into it, Escape closes it, focus goes back to the button that
// opened it). Opening another history or closing this one cancels whatever it had in flight.

import { api, isCancelled, Problem } from "./api.js";
import { actorName, changedFields, doorName, entryTime, opName, valueText } from "./changes.js";
import { $, el } from "./format.js";

const PAGE_SIZE = 20;
const view = { ledger: null, transaction: null, cursor: null, opener: null, count: 0 };
let loading = new AbortController();

// A transaction in a few words: its description, else its payee, else its category.
export const describe = (t) => `${t.description || t.payee || t.category || "Split"} ${t.date}`;

export function openHistory(ledger, transaction, opener) {
  loading.abort();
  loading = new AbortController();
  Object.assign(view, { ledger, transaction, opener, cursor: null, count: 0 });
  $("history-title").textContent = `History of ${describe(transaction)}`;
  $("history-list").replaceChildren();
  $("history-error").textContent = "";
  $("history-more").hidden = true;
  $("history-state").textContent = "Loading the history…";
  const dialog = $("history");
  if (!dialog.open) dialog.showModal();
  return loadPage(loading.signal, false);
}

// The next page; `moveFocus` (after "Load more") puts the focus on the first entry it brought, so
// a keyboard user reads on from there rather than from the top or from a button now hidden.
async function loadPage(signal, moveFocus) {
  const { ledger, transaction, cursor } = view;
  let path = `/api/ledgers/${ledger.id}/changes?entity=transaction&entityId=${transaction.id}` +
    `&limit=${PAGE_SIZE}`;
  if (cursor) path += `&cursor=${encodeURIComponent(cursor)}`;
  const more = $("history-more");
  more.disabled = true;
  $("history-error").textContent = "";
  try {
    const page = await api("GET", path, undefined, { signal });
    signal.throwIfAborted();
    const items = page.items.map((entry) => entryItem(entry, ledger.timezone));
    $("history-list").append(...items);
    view.count += items.length;
    view.cursor = page.nextCursor;
    more.hidden = !page.nextCursor;
    $("history-state").textContent = view.count
      ? `${view.count} change${view.count === 1 ? "" : "s"} shown, newest first.`
      : "No changes are recorded for this transaction.";
    if (moveFocus && items.length) items[0].focus();
  } catch (error) {
    if (isCancelled(error)) return;
    $("history-state").textContent = "";
    // A refusal says why (`Problem`); a network failure is a TypeError from fetch.
    const why = error instanceof Problem || error instanceof TypeError ? error.message : null;
    if (why === null) throw error;
    $("history-error").textContent = `The history could not be loaded: ${why}`;
  } finally {
    more.disabled = false;
  }
}

function entryItem(entry, timeZone) {
  const fields = changedFields(entry);
  const item = el("li", { class: "change", tabindex: "-1" },
    el("p", { class: "change-head" },
      el("strong", { class: `op op-${entry.op}` }, opName(entry.op)),
      ` by ${actorName(entry)} via ${doorName(entry.via)}`),
    el("p", { class: "muted" },
      el("time", { datetime: entry.at }, entryTime(entry.at, timeZone, navigator.language)),
      ...(entry.requestId ? [" · request ", el("code", {}, entry.requestId)] : [])));
  if (!fields.length) {
    item.append(el("p", { class: "muted" }, "No field of the transaction changed."));
    return item;
  }
  item.append(el("dl", { class: "fields" }, ...fields.map((field) =>
    el("div", { "data-field": field.key }, el("dt", {}, field.label), el("dd", {}, ...valueParts(entry.op, field))))));
  return item;
}

// An update reads "before → after" (the arrow is spoken as "changed to"); a creation gives the
// new value, a deletion the value it had.
function valueParts(op, field) {
  if (op === "created") return [el("span", { class: "after" }, valueText(field.after))];
  if (op === "deleted") return [el("span", { class: "before" }, valueText(field.before))];
  return [
    el("span", { class: "before" }, valueText(field.before)),
    el("span", { class: "arrow", "aria-hidden": "true" }, " → "),
    el("span", { class: "visually-hidden" }, " changed to "),
    el("span", { class: "after" }, valueText(field.after)),
  ];
}

export function setUpHistory() {
  const dialog = $("history");
  $("history-more").addEventListener("click", () => loadPage(loading.signal, true));
  $("history-close").addEventListener("click", () => dialog.close());
  // Closed by the button or by Escape: stop loading, and give the focus back to the row's button
  // (when the list was drawn anew meanwhile, to the transactions' heading).
  dialog.addEventListener("close", () => {
    loading.abort();
    const back = view.opener?.isConnected ? view.opener : $("tx-title");
    back.focus();
  });
}
