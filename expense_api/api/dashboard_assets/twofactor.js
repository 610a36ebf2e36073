// Two-factor sign-in on the Security page. Off: "Turn on" asks the service for a new key
// (POST /api/auth/totp/setup) and shows it as a QR code and as text; the first code from the app
// turns it on (/enable), which answers the ten recovery codes, shown this once with a copy and a
// download. On: "Turn off" takes the password and a code (/disable).

import { api, Problem, session } from "./api.js";
import { clearErrors, onSubmit } from "./forms.js";
import { $, el, saveFile, say } from "./format.js";
import { act } from "./views.js";

// The QR code comes as an SVG image in a data: URI; the page's policy allows data: for images
// alone, and an SVG shown by <img> runs no script. Anything else is not shown.
const QR_PREFIX = "data:image/svg+xml;base64,";

let enabled = false;
let codes = []; // the recovery codes just issued, until they are put away
let changed = () => {};

export const twoFactorOn = () => enabled;

export function setUpTwoFactor(onChange) {
  changed = onChange;
  $("totp-start").addEventListener("click", act(startSetup));
  $("totp-cancel").addEventListener("click", () => { forget(); draw(); $("totp-start").focus(); });
  onSubmit($("totp-setup"), enable, explainCode);
  onSubmit($("totp-disable"), disable, explainCode);
  $("totp-codes-copy").addEventListener("click", act(async () => {
    await navigator.clipboard.writeText(codes.join("\n"));
    $("totp-codes-said").textContent = "Copied: paste them somewhere safe.";
  }));
  $("totp-codes-download").addEventListener("click", () => {
    saveFile("expense-api-recovery-codes.txt", codesFile(), "text/plain");
    $("totp-codes-said").textContent = "Downloaded as expense-api-recovery-codes.txt.";
  });
  $("totp-codes-done").addEventListener("click", () => { forget(); draw(); $("totp-state").focus(); });
  document.addEventListener("signed-out", forget);
}

// The page shown: the account's state asked anew; left (or signed out): nothing secret stays.
export async function showTwoFactor(shown, signal) {
  forget();
  if (!shown) return;
  const on = await isOn(signal);
  signal.throwIfAborted();
  enabled = on;
  draw();
}

// Whether two-factor sign-in is on, as /api/auth/me says. An answer of the service that says
// otherwise later (setup's totp_already_enabled, a deletion's totp_required: another tab turned
// it on or off) corrects it: learnTwoFactor.
async function isOn(signal) {
  const { user } = await api("GET", "/api/auth/me", undefined, { signal });
  return user.totpEnabled === true;
}

// The service said which it is.
export function learnTwoFactor(on) {
  enabled = on;
  draw();
}

function forget() {
  codes = [];
  $("totp-code-list").replaceChildren();
  $("totp-codes-said").textContent = "";
  $("totp-secret").textContent = "";
  $("totp-qr").removeAttribute("src");
  $("totp-codes").hidden = true;
  $("totp-setup").hidden = true;
  for (const form of [$("totp-setup"), $("totp-disable")]) { form.reset(); clearErrors(form); }
}

function draw() {
  $("totp-state").textContent = enabled
    ? "On: after your password, signing in asks for a code from your authenticator app."
    : "Off: signing in asks for your password only. Turn it on so that a stolen password is not enough.";
  $("totp-start").hidden = enabled || !$("totp-setup").hidden || !$("totp-codes").hidden;
  $("totp-disable").hidden = !enabled || !$("totp-codes").hidden;
}

function explainCode(body) {
  if (body.code === "invalid_totp") return "That code is not right: type the code your app shows now.";
  if (body.code === "invalid_password") return "Not done: the password is not right.";
  return null;
}

async function startSetup() {
  let setup;
  try {
    setup = await api("POST", "/api/auth/totp/setup");
  } catch (error) {
    if (error instanceof Problem && error.body.code === "totp_already_enabled") {
      learnTwoFactor(true);
      return say("Two-factor sign-in is on already.");
    }
    throw error;
  }
  const qr = $("totp-qr");
  if (typeof setup.qrCode === "string" && setup.qrCode.startsWith(QR_PREFIX)) qr.src = setup.qrCode;
  qr.hidden = !qr.getAttribute("src");
  $("totp-secret").textContent = setup.secret;
  $("totp-setup").hidden = false;
  draw();
  $("totp-setup-title").focus();
}

async function enable(v) {
  const answer = await api("POST", "/api/auth/totp/enable", { code: v.code.trim() });
  forget();
  enabled = true;
  codes = answer.recoveryCodes;
  $("totp-code-list").replaceChildren(...codes.map((code) => el("li", {}, el("code", {}, code))));
  $("totp-codes").hidden = false;
  draw();
  $("totp-codes-title").focus();
  say("Two-factor sign-in is on. Save your recovery codes now.");
  await changed();
}

async function disable(v) {
  await api("POST", "/api/auth/totp/disable", { password: v.password, code: v.code.trim() });
  forget();
  enabled = false;
  draw();
  $("totp-state").focus();
  say("Two-factor sign-in is off.");
  await changed();
}

function codesFile() {
  return `Recovery codes for ${session.user?.email ?? "your account"} (expense-api)\n` +
    "Each one signs you in once, in place of the code from your authenticator app.\n\n" +
    `${codes.join("\n")}\n`;
}
