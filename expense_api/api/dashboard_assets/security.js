// The Security page (`#security`): the account's, not a ledger's. Two-factor sign-in
// (twofactor.js), where the account is signed in (each session can be ended; ending this one
// signs out), the password, access tokens for scripts (tokens.js), the first page of security
// events, the export and the account's deletion (account.js). Written against the contract's
// "Account security" (GET /api/auth/sessions, /events, POST /api/auth/password).

import { api, isCancelled, Problem } from "./api.js";
import { setUpAccount, showAccount } from "./account.js";
import { clearErrors, onSubmit } from "./forms.js";
import { $, el, say, when } from "./format.js";
import { setUpTokens, showTokens } from "./tokens.js";
import { setUpTwoFactor, showTwoFactor } from "./twofactor.js";
import { endSignedIn } from "./views.js";

let loading = new AbortController(); // the page's loads in progress (or the last ones)

// What each event kind says; a kind the page does not know is shown by its name.
const EVENTS = {
  login: "Signed in",
  login_failed: "Failed sign-in (wrong password or code)",
  totp_enabled: "Two-factor sign-in turned on",
  totp_disabled: "Two-factor sign-in turned off",
  totp_disable_failed: "Failed attempt to turn two-factor sign-in off (wrong password or code)",
  recovery_code_used: "A recovery code was used",
  password_changed: "Password changed",
  session_ended: "A session was ended",
  token_created: "Access token created",
  token_revoked: "Access token revoked",
  account_erased: "Account deleted",
};

// "Chrome on Linux" from a user agent; a script's own name ("python-requests/2.32") as it is.
export function deviceName(agent) {
  if (!agent) return "Unknown device";
  const browser = [["Edg/", "Edge"], ["Firefox/", "Firefox"], ["Chrome/", "Chrome"],
    ["Safari/", "Safari"]].find(([mark]) => agent.includes(mark))?.[1];
  const system = [["Android", "Android"], ["iPhone", "iOS"], ["iPad", "iPadOS"], ["Windows", "Windows"],
    ["Mac OS X", "macOS"], ["CrOS", "ChromeOS"], ["Linux", "Linux"]].find(([mark]) => agent.includes(mark))?.[1];
  if (browser) return system ? `${browser} on ${system}` : browser;
  return agent.split(" ")[0].slice(0, 60);
}

// An action of the page: a refusal is said in the status line; a cancelled load says nothing.
export const guard = (action) => async (...args) => {
  try {
    await action(...args);
  } catch (error) {
    if (isCancelled(error)) return;
    if (!(error instanceof Problem)) throw error;
    say(error.message);
  }
};

// ---- the page ---------------------------------------------------------------------------------

export function setUpSecurity() {
  setUpTwoFactor(reloadEvents);
  setUpTokens(reloadEvents);
  setUpAccount();
  onSubmit($("password-form"), changePassword, explainPassword);
}

// Shown (pages.js), or left: leaving cancels the page's loads. Each showing starts from the
// page's resting state and loads everything anew.
export function showSecurity(shown) {
  loading.abort();
  loading = new AbortController();
  const { signal } = loading;
  showAccount();
  $("password-form").reset();
  clearErrors($("password-form"));
  const parts = [showTwoFactor(shown, signal), showTokens(shown, signal)];
  if (shown) guard(() => Promise.all([...parts, loadSessions(signal), loadEvents(signal)]))();
}

function reloadEvents() {
  return guard(() => loadEvents(loading.signal))();
}

// ---- sessions ---------------------------------------------------------------------------------

async function loadSessions(signal) {
  const { items } = await api("GET", "/api/auth/sessions", undefined, { signal });
  signal.throwIfAborted();
  $("sessions-list").replaceChildren(...items.map((s) => {
    const device = deviceName(s.userAgent);
    return el("li", { "data-session": s.id },
      el("div", {},
        el("p", { class: "device" }, device, ...(s.current ? [" ", el("strong", { class: "badge" }, "this device")] : [])),
        el("p", { class: "muted ua" }, s.userAgent ?? ""),
        el("p", { class: "muted" }, `Signed in ${when(s.createdAt)}; last used ${when(s.lastUsedAt)}`)),
      el("button", {
        type: "button", class: "secondary",
        "aria-label": s.current ? "Sign out this device" : `Sign out ${device}, signed in ${when(s.createdAt)}`,
        onclick: guard(() => endSession(s)),
      }, "Sign out"));
  }));
}

async function endSession(s) {
  await api("DELETE", `/api/auth/sessions/${encodeURIComponent(s.id)}`);
  if (s.current) return endSignedIn("Signed out: you ended this device's session.");
  say(`Signed out ${deviceName(s.userAgent)}.`);
  await Promise.all([loadSessions(loading.signal), loadEvents(loading.signal)]);
}

// ---- the password -----------------------------------------------------------------------------

function explainPassword(body) {
  if (body.code === "invalid_password") return "Not changed: the current password is not right.";
  return null;
}

async function changePassword(v) {
  const form = $("password-form");
  if (v.newPassword !== v.confirm) {
    form.elements.confirm.setAttribute("aria-invalid", "true");
    form.querySelector('.error[data-for="confirm"]').textContent = "The two new passwords differ.";
    form.elements.confirm.focus();
    return;
  }
  await api("POST", "/api/auth/password", { currentPassword: v.currentPassword, newPassword: v.newPassword });
  form.reset();
  say("Password changed. Every other device was signed out and your access tokens were ended; " +
    "this one stays signed in.");
  const { signal } = loading;
  await Promise.all([loadSessions(signal), loadEvents(signal), showTokens(true, signal)]);
}

// ---- security events (the first page) ---------------------------------------------------------

async function loadEvents(signal) {
  const { items } = await api("GET", "/api/auth/events", undefined, { signal });
  signal.throwIfAborted();
  if (!items.length) return $("events-list").replaceChildren(el("li", { class: "muted" }, "Nothing yet."));
  $("events-list").replaceChildren(...items.map((e) => el("li", { "data-kind": e.kind },
    el("span", {}, EVENTS[e.kind] ?? e.kind.replaceAll("_", " ")),
    el("span", { class: "muted" }, [when(e.at ?? e.createdAt), e.userAgent && deviceName(e.userAgent),
      e.address].filter(Boolean).join(" · ")))));
}
