// Access tokens for scripts on the Security page (POST/GET/DELETE /api/auth/tokens): a new
// token is shown once, with a copy button, until "Done" (or leaving the page) forgets it; the
// list names each token's access and dates, each with its Revoke.

import { api } from "./api.js";
import { onSubmit } from "./forms.js";
import { $, el, say, when } from "./format.js";
import { act } from "./views.js";

const SCOPES = { read: "read only", write: "read and write" };
let changed = () => {};
let page = new AbortController().signal; // the Security page's loads (security.js)

export function setUpTokens(onChange) {
  changed = onChange;
  onSubmit($("token-form"), create);
  $("token-copy").addEventListener("click", act(async () => {
    await navigator.clipboard.writeText($("token-value").textContent);
    say("Token copied.");
  }));
  $("token-done").addEventListener("click", () => { forget(); $("token-form").elements.name.focus(); });
  document.addEventListener("signed-out", forget);
}

function forget() {
  $("token-value").textContent = "";
  $("token-made").hidden = true;
}

// Shown: the list loaded anew (a password change ends every token) under the page's `signal`;
// left: the token shown once is forgotten.
export function showTokens(shown, signal) {
  forget();
  page = signal;
  return shown ? loadTokens() : null;
}

async function loadTokens() {
  const signal = page;
  const { items } = await api("GET", "/api/auth/tokens", undefined, { signal });
  signal.throwIfAborted();
  if (!items.length) return $("tokens-list").replaceChildren(el("li", { class: "muted" }, "No access tokens."));
  $("tokens-list").replaceChildren(...items.map((t) => el("li", { "data-token": t.id },
    el("div", {},
      el("p", { class: "device" }, t.name, " ", el("span", { class: "muted" }, `(${SCOPES[t.scope] ?? t.scope})`)),
      el("p", { class: "muted" }, `Created ${when(t.createdAt)}; expires ${t.expiresAt ? when(t.expiresAt) : "never"}; ` +
        `last used ${when(t.lastUsedAt)}`)),
    el("button", { type: "button", class: "secondary", "aria-label": `Revoke ${t.name}`,
      onclick: act(() => revoke(t)) }, "Revoke"))));
}

async function create(v) {
  const body = { name: v.name.trim(), scope: v.scope };
  if (v.expiresInDays) body.expiresInDays = Number(v.expiresInDays);
  const made = await api("POST", "/api/auth/tokens", body);
  $("token-form").reset();
  $("token-value").textContent = made.token;
  $("token-made").hidden = false;
  $("token-made-title").focus();
  say(`Token ${made.name} created: copy it now.`);
  await Promise.all([loadTokens(), changed()]);
}

async function revoke(t) {
  if (!window.confirm(`Revoke ${t.name}? Scripts using it stop working at once.`)) return;
  await api("DELETE", `/api/auth/tokens/${encodeURIComponent(t.id)}`);
  say(`Token ${t.name} revoked.`);
  await Promise.all([loadTokens(), changed()]);
}
