// The account's data on the Security page: the export (GET /api/me/export, saved as a JSON file
// as the service wrote it) and the account's deletion (DELETE /api/me) behind a confirmation:
// the person's email typed out, the password, and a code when two-factor sign-in is on. A
// deleted account is signed out to the sign-in screen.

import { api, Problem, session } from "./api.js";
import { clearErrors, onSubmit } from "./forms.js";
import { $, saveFile, say } from "./format.js";
import { learnTwoFactor, twoFactorOn } from "./twofactor.js";
import { act, endSignedIn, state } from "./views.js";

export function setUpAccount() {
  $("export").addEventListener("click", act(exportAccount));
  $("delete-start").addEventListener("click", () => openDelete($("delete-form").hidden));
  $("delete-cancel").addEventListener("click", () => { openDelete(false); $("delete-start").focus(); });
  onSubmit($("delete-form"), deleteAccount);
}

// The page shown or left: the deletion's form starts closed and empty.
export function showAccount() {
  openDelete(false);
}

function openDelete(open) {
  const form = $("delete-form");
  form.reset();
  clearErrors(form);
  form.hidden = !open;
  $("delete-start").setAttribute("aria-expanded", String(open));
  $("delete-code").hidden = !twoFactorOn();
  if (open) form.elements.email.focus();
}

async function exportAccount() {
  const button = $("export");
  button.disabled = true;
  try {
    const text = await api("GET", "/api/me/export", undefined, { text: true });
    saveFile(`expense-api-export-${new Date().toISOString().slice(0, 10)}.json`, text, "application/json");
    say("Your data was downloaded as a JSON file.");
  } finally {
    button.disabled = false;
  }
}

async function deleteAccount(v) {
  const form = $("delete-form");
  const email = session.user.email;
  if (v.email.trim().toLowerCase() !== email.toLowerCase()) {
    form.elements.email.setAttribute("aria-invalid", "true");
    form.querySelector('.error[data-for="email"]').textContent = `Type your account's email, ${email}, to confirm.`;
    form.elements.email.focus();
    return;
  }
  const body = { password: v.password };
  if (twoFactorOn()) body.totp = v.totp.trim();
  try {
    await api("DELETE", "/api/me", body);
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    if (error.body.code === "totp_required") {
      learnTwoFactor(true);
      $("delete-code").hidden = false;
      form.elements.totp.focus();
    }
    throw new Problem(error.status, { ...error.body, detail: await refusal(error.body) ?? error.body.detail });
  }
  endSignedIn("Your account was deleted, with the ledgers only you used. You are signed out.");
}

// A refusal in plain words; a sole owner's names the ledgers to hand over first.
async function refusal(body) {
  if (body.code === "invalid_password") return "Not deleted: the password is not right.";
  if (body.code === "invalid_totp") return "Not deleted: that code is not right, or it was used already.";
  if (body.code === "totp_required") return "Type the code your authenticator app shows, or a recovery code.";
  if (body.code !== "sole_owner") return null;
  const names = await soleOwnerOf(body);
  const which = names.length ? names.join(", ") : "a ledger shared with others";
  return `Not deleted: you are the only owner of ${which}, which other people use. Make one of ` +
    "them an owner there (or remove them) first, then delete your account.";
}

// The ledgers the refusal names; when it names none, the ledgers the page knows the person owns
// alone among other members.
async function soleOwnerOf(body) {
  const named = [].concat(body.ledgers ?? []).map((l) => (typeof l === "string" ? l : l?.name)).filter(Boolean);
  if (named.length) return named;
  const owned = state.ledgers.filter((l) => l.role === "owner");
  const members = await Promise.all(owned.map((l) => api("GET", `/api/ledgers/${l.id}/members`)));
  return owned.filter((_, i) => {
    const items = members[i].items;
    return items.length > 1 && items.filter((m) => m.role === "owner").length === 1;
  }).map((l) => l.name);
}
