// The dashboard's pages, each at its own address so a reload or a bookmark comes back to it:
// `#overview` (or no address), `#imports` (an import's own page `#imports/ID`) and `#security`.
// The current page's link has aria-current="page"; leaving a page cancels what it had in flight.

import { $ } from "./format.js";
import { showImports } from "./imports.js";
import { showSecurity } from "./security.js";

const PAGES = ["overview", "imports", "security"];

// Which page an address names, or null for one that is no page (a `#main` skip link).
function pageOf(hash) {
  const imports = /^#imports(?:\/(\d+))?$/.exec(hash);
  if (imports) return { name: "imports", opened: imports[1] ? Number(imports[1]) : null };
  if (hash === "#security") return { name: "security" };
  if (!hash || hash === "#overview") return { name: "overview" };
  return null;
}

export function route() {
  const page = pageOf(window.location.hash);
  if (!page) return;
  for (const name of PAGES) {
    $(`${name}-page`).hidden = name !== page.name;
    const link = $(`nav-${name}`);
    if (name === page.name) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  // The ledger and the month choose nothing on the Security page: it is the account's.
  $("ledger-controls").hidden = page.name === "security";
  showImports(page.name === "imports", page.opened);
  showSecurity(page.name === "security");
}

export function setUpPages() {
  window.addEventListener("hashchange", () => route());
}
