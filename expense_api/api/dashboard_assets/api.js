// The API client: the session's access token (in this module's memory only), one shared refresh
// by the HttpOnly cookie, and requests a view can cancel. The refresh token itself is a cookie the
// page never sees; it is renewed with the CSRF value of the readable csrf_refresh_token cookie.

export const session = { access: null, user: null };

export class Problem extends Error {
  constructor(status, body) {
    super(body.detail || body.title || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

// A request given up because its view was replaced (another ledger or month was picked).
export const isCancelled = (error) => error?.name === "AbortError";

export function signIn(body) {
  session.access = body.accessToken;
  session.user = body.user;
}

export function signOut() {
  session.access = null;
  session.user = null;
}

function csrfValue() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("csrf_refresh_token="));
  return found ? decodeURIComponent(found.split("=")[1]) : null;
}

async function renew() {
  const csrf = csrfValue();
  if (!csrf) return false;
  const response = await fetch("/api/auth/refresh", {
    method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin",
  });
  if (!response.ok) return false;
  signIn(await response.json());
  return true;
}

let refreshing = null;

// One refresh at a time: every caller while it runs (the parallel 401s of one view, say) waits for
// the same answer. It is never cancelled by a view: the new token serves whatever comes next.
export function refresh() {
  refreshing ??= renew().finally(() => { refreshing = null; });
  return refreshing;
}

// 401s that answer what the person typed (a wrong second-factor code, a code that is needed),
// not the token: renewing the token and sending the code again would only count a second failure.
const NOT_THE_TOKEN = new Set(["invalid_totp", "totp_required", "invalid_credentials"]);

// A refusal's `code`, read from a copy of the answer (its body stays unread for the caller).
const codeOf = (response) => response.clone().json().then((body) => body?.code, () => null);

// One call of the API. A 401 to a request that carried a token renews it once (or, when another
// request has renewed it meanwhile, uses the new one) and retries once. `signal` cancels it. A
// `FormData` body (a file upload) goes as multipart/form-data, the browser writing its boundary;
// any other body as JSON. `text: true` answers the body's text as the service wrote it (a file
// to save, whose numbers must not pass through a float).
export async function api(method, path, body, { signal, text = false } = {}) {
  const form = body instanceof FormData;
  const send = () => {
    const headers = {};
    if (session.access) headers.Authorization = `Bearer ${session.access}`;
    if (body !== undefined && !form) headers["Content-Type"] = "application/json";
    return fetch(path, {
      method, headers, signal,
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
    });
  };
  const sentWith = session.access;
  let response = await send();
  if (response.status === 401 && sentWith && !NOT_THE_TOKEN.has(await codeOf(response))) {
    const renewed = (session.access && session.access !== sentWith) || (await refresh());
    signal?.throwIfAborted();
    if (renewed) response = await send();
  }
  if (response.status === 204) return null;
  if (text && response.ok) return response.text();
  // A refusal from something in front of the service (a proxy's 413, say) may not be JSON.
  const data = await response.json().catch((error) => {
    if (response.ok) throw error;
    return { status: response.status, title: response.statusText || `HTTP ${response.status}` };
  });
  if (!response.ok) throw new Problem(response.status, data);
  return data;
}
