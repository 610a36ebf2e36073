// The household dashboard: a client of the REST API like any other (see api/dashboard.py). This
// module wires the page: one listener per control, every form, and the start-up sign-in by the
// refresh cookie (and a second factor when the account asks for one). api.js talks to the API,
// format.js formats, charts.js draws, views.js loads, pages.js shows the page an address names:
// imports.js is the Import page (#imports), security.js the Security page (#security).

import { api, Problem, refresh, signIn } from "./api.js";
import { clearErrors, onSubmit } from "./forms.js";
import { $, say } from "./format.js";
import { setUpHistory } from "./history.js";
import { ledgerChanged, setUpImports } from "./imports.js";
import { route, setUpPages } from "./pages.js";
import { setUpSecurity } from "./security.js";
import { setUpTransactionForm, transactionBody } from "./txform.js";
import {
  act, defaultDate, endSignedIn, explainProblem, ledgerMoney, loadHousehold, loadLedgers,
  loadTransactions, loadView, monthName, monthParts, pickLedger, resetTransactionForm, showSignedIn,
  showSignedOut, state,
} from "./views.js";

const submit = (id, handler) => onSubmit($(id), handler, explainProblem);

// ---- signing in and out ------------------------------------------------------------------------

async function start() {
  showSignedIn();
  await loadLedgers();
  route();
}

async function login(email, password, totp) {
  const body = { email, password, refreshCookie: true };
  if (totp) body.totp = totp;
  signIn(await api("POST", "/api/auth/login", body));
  askForCode(false);
  await start();
}

// Two-factor sign-in: the form asks for a code only once the service says it needs one, and
// keeps the email and password typed so the person types the code alone.
function askForCode(asking) {
  const field = $("signin").elements.totp;
  $("signin-code").hidden = !asking;
  field.value = "";
  if (asking) field.focus();
}
document.addEventListener("signed-out", () => askForCode(false));

function explainSignIn(body) {
  if (body.code === "totp_required") {
    return "Two-factor sign-in is on for this account: type the code your authenticator app " +
      "shows, or one of your recovery codes.";
  }
  if (body.code === "invalid_totp") {
    return "That code is not right, or it was used already. Type the code your app shows now, " +
      "or a recovery code you have not used.";
  }
  return explainProblem(body);
}

onSubmit($("signin"), async (v) => {
  try {
    await login(v.email, v.password, $("signin-code").hidden ? "" : v.totp.trim());
  } catch (error) {
    if (error instanceof Problem && error.body.code === "totp_required") askForCode(true);
    throw error;
  }
}, explainSignIn);
submit("register", async (v) => {
  await api("POST", "/api/auth/register", {
    name: v.name, email: v.email, password: v.password, currency: v.currency.trim().toUpperCase(),
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
  });
  await login(v.email, v.password);
});

$("logout").addEventListener("click", async () => {
  try { await api("POST", "/api/auth/logout"); } catch { /* the session is gone either way */ }
  endSignedIn("Signed out.");
});

// ---- the ledger and the month: each change loads the view anew, cancelling the previous load --

$("ledger").addEventListener("change", act((event) => {
  const loaded = pickLedger(event.target.value);
  ledgerChanged();
  return loaded;
}));
$("month").addEventListener("change", act(() => {
  $("tx-form").elements.date.value = defaultDate();
  return loadView();
}));
$("more").addEventListener("click", act(() => loadTransactions(false)));
setUpHistory();
setUpTransactionForm(state);
setUpImports(state, act(loadView));
setUpSecurity();
setUpPages();

// ---- writing -----------------------------------------------------------------------------------

const inLedger = (path) => `/api/ledgers/${state.ledger.id}${path}`;

$("tx-cancel").addEventListener("click", () => { clearErrors($("tx-form")); resetTransactionForm(); });

submit("tx-form", async (v) => {
  const body = transactionBody(v);
  const saved = v.id
    ? await api("PATCH", inLedger(`/transactions/${v.id}`), body)
    : await api("POST", inLedger("/transactions"), body);
  const where = saved.category === null ? `split into ${saved.splits.length} lines` : `in ${saved.category}`;
  say(`${v.id ? "Saved" : "Added"} ${ledgerMoney(saved)} ${where}.` +
    (saved.alerts.length ? ` ${saved.alerts.length} budget alert(s).` : ""));
  resetTransactionForm();
  await loadView();
});

submit("category-form", async (v) => {
  const saved = await api("POST", inLedger("/categories"), { name: v.name });
  $("category-form").reset();
  say(`Category ${saved.name} added.`);
  await loadView();
  $("tx-form").elements.categoryId.value = saved.id;
});

submit("budget-form", async (v) => {
  const { year, month } = monthParts();
  const body = { year, month, amount: v.amount.trim(), mode: v.mode, rollover: v.rollover,
    categoryId: v.categoryId ? Number(v.categoryId) : null,
    alertThreshold: v.alertThreshold === "" ? undefined : Number(v.alertThreshold) };
  await api("POST", inLedger("/budgets"), body);
  $("budget-form").elements.amount.value = "";
  say("Budget saved.");
  await loadView();
});

// What each rollover means, in one line under the choice.
const ROLLOVER_HINTS = {
  none: "Each month starts from its own amount.",
  surplus: "What last month's budget left unspent is added to this month's.",
  deficit: "What last month overspent is taken off this month's.",
  both: "Last month's leftover is added, or what it overspent taken off.",
};
const rollover = $("budget-form").elements.rollover;
const showRolloverHint = () => { $("budget-rollover-hint").textContent = ROLLOVER_HINTS[rollover.value]; };
rollover.addEventListener("change", showRolloverHint);
showRolloverHint();

// The month before the one shown, copied into it: budgets it already has are kept as they are.
$("budgets-copy").addEventListener("click", act(async (event) => {
  const button = event.currentTarget;
  const { year, month } = monthParts();
  const from = month === 1 ? { year: year - 1, month: 12 } : { year, month: month - 1 };
  button.disabled = true;
  try {
    const copied = await api("POST", inLedger("/budgets/copy"), { from, to: { year, month } });
    say(`Copied ${monthName(from.year, from.month)}'s budgets: ${copied.created.length} made, ` +
      `${copied.skipped.length} kept (already set for this month).`);
  } finally {
    button.disabled = false;
  }
  await loadView();
}));

submit("invite-form", async (v) => {
  await api("POST", inLedger("/invitations"), { email: v.email, role: v.role });
  $("invite-form").reset();
  say(`Invitation sent to ${v.email}.`);
  await loadHousehold();
});

// ---- start -------------------------------------------------------------------------------------

(async () => {
  const today = new Date();
  $("month").value = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, "0")}`;
  $("tx-form").elements.date.value = defaultDate();
  try {
    if (await refresh()) return await start();
  } catch (error) {
    say(error.message);
  }
  showSignedOut();
})();
