// Formatting and building the page: amounts, months, HTML and SVG elements. No state.

const SVG = "http://www.w3.org/2000/svg";

export const $ = (id) => document.getElementById(id);

// Amounts arrive as exact decimal strings; Intl formats them for the browser's locale.
export function money(amount, currency = "USD") {
  return new Intl.NumberFormat(navigator.language, { style: "currency", currency }).format(amount);
}

// A chart axis's value: whole units ("$2,500"), shortened from 100,000 up ("$150K").
export function axisMoney(amount, currency = "USD", compact = false) {
  return new Intl.NumberFormat(navigator.language, {
    style: "currency", currency, minimumFractionDigits: 0, maximumFractionDigits: 0,
    notation: compact ? "compact" : "standard",
  }).format(amount);
}

// "2026-03" → "Mar 26" (in the browser's language).
export function monthLabel(yearMonth) {
  const [year, month] = yearMonth.split("-").map(Number);
  return new Intl.DateTimeFormat(navigator.language, { month: "short", year: "2-digit", timeZone: "UTC" })
    .format(new Date(Date.UTC(year, month - 1, 1)));
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

export function say(text) { $("status").textContent = text; }
