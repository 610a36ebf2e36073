// The charts: plain SVG drawn by this module, no library. Each chart is drawn at its container's
// width in CSS pixels (one SVG unit is one pixel, so its text is the page's text size whatever
// the screen's width or pixel ratio), its text measured before anything is placed next to it,
// and redrawn when the container's width changes. Each is an image with a text alternative that
// lists its figures.

import { axisMoney, el, monthLabel, svg } from "./format.js";

const drawn = new Map(); // container → [width it was drawn at, redraw]
const resized = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const [width, redraw] = drawn.get(entry.target) ?? [];
    if (redraw && Math.floor(entry.target.clientWidth) !== width) redraw();
  }
});

// The container's width and text size, remembering how to draw it again at another width.
function frame(target, redraw) {
  const width = Math.floor(target.clientWidth) || 320;
  const font = parseFloat(getComputedStyle(target).fontSize) || 14;
  if (!drawn.has(target)) resized.observe(target);
  drawn.set(target, [width, redraw]);
  return { width, font };
}

function empty(target, text) {
  drawn.delete(target);
  resized.unobserve(target);
  target.replaceChildren(el("p", { class: "muted" }, text));
}

function canvas(width, height, label) {
  return svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
}

// A text's width as drawn (the chart must be in the page); an estimate while it is not shown.
function textWidth(node, font) {
  return node.getComputedTextLength() || node.textContent.length * font * 0.6;
}

// Shortens a text with an ellipsis until it fits `room` (the text alternative has it whole).
function fit(node, room, font) {
  const whole = node.textContent;
  for (let keep = whole.length - 1; textWidth(node, font) > room && keep > 1; keep -= 1) {
    node.textContent = `${whole.slice(0, keep)}…`;
  }
}

// Expenses per category: name, bar, amount and share in three columns that never overlap.
export function drawBreakdown(target, items, money) {
  if (!items.length) return empty(target, "No expenses this month.");
  const { width, font } = frame(target, () => drawBreakdown(target, items, money));
  const row = Math.round(font * 2);
  const gap = Math.round(font * 0.75);
  const chart = canvas(width, items.length * row,
    "Spending by category: " + items.map((i) => `${i.category} ${money(i.amount)}`).join(", "));
  target.replaceChildren(chart);
  const middle = (n) => n * row + row / 2;
  const labels = items.map((item, n) =>
    svg("text", { class: "label", x: 0, y: middle(n), "dominant-baseline": "central" }, item.category));
  const amounts = items.map((item, n) =>
    svg("text", { class: "amount", x: width, y: middle(n), "dominant-baseline": "central", "text-anchor": "end" },
      `${money(item.amount)} · ${item.share}%`));
  chart.append(...labels, ...amounts);
  const amountWidth = Math.max(...amounts.map((a) => textWidth(a, font)));
  for (const label of labels) fit(label, width * 0.35, font);
  const barX = Math.ceil(Math.max(...labels.map((l) => textWidth(l, font)))) + gap;
  const room = Math.max(1, width - Math.ceil(amountWidth) - gap - barX);
  const max = Math.max(...items.map((i) => Number(i.amount))) || 1;
  items.forEach((item, n) => chart.append(svg("rect", {
    class: "bar-fill", x: barX, y: n * row + row * 0.2, height: row * 0.6,
    width: Math.max(1, (Number(item.amount) / max) * room),
  })));
}

// Decimal strings as the API writes them, told apart without a float: zero, negative, |amount|.
const isZero = (amount) => !/[1-9]/.test(amount);
const isNegative = (amount) => amount.startsWith("-") && !isZero(amount);
const magnitude = (amount) => amount.replace(/^-/, "");

// What a budget row says: spent of what the month has available, and, when the month carried
// something over from the month before (its rollover), how that is made up.
export function budgetWords(item, money) {
  const name = item.category ?? "Overall";
  const share = item.percentUsed === null ? "nothing available" : `${item.percentUsed}%`;
  if (isZero(item.carried)) {
    return `${name} (${item.mode}): ${money(item.spent)} of ${money(item.available)}, ${share}`;
  }
  const sign = isNegative(item.carried) ? "−" : "+";
  return `${name} (${item.mode}): ${money(item.spent)} of ${money(item.available)} available ` +
    `(${money(item.budget)} ${sign} ${money(magnitude(item.carried))} carried), ${share}`;
}

// One row per budget, all laid out alike: what it is and where it stands on one line, then a bar
// across the row with the alert threshold as a dashed mark. The bar is measured against what the
// month has available (the budget plus what it carried); with nothing available, any spending
// fills it.
export function drawBudgets(target, usage, budgets, money) {
  if (!usage.length) return empty(target, "No budgets this month.");
  const { width, font } = frame(target, () => drawBudgets(target, usage, budgets, money));
  const height = Math.round(font * 1.5);
  const threshold = Object.fromEntries(budgets.map((b) => [b.id, b.alertThreshold]));
  const list = el("ul", { class: "plain budget-list" });
  for (const item of usage) {
    const nothing = item.percentUsed === null;
    const used = nothing ? (isZero(item.spent) ? 0 : Infinity) : Number(item.percentUsed);
    const over = isNegative(item.remaining) || used > 100;
    const mark = threshold[item.budgetId] ?? 80;
    const at = Math.round((mark / 100) * width);
    const bar = canvas(width, height,
      `${nothing ? "nothing available" : `${used}% used`}, alert at ${mark}%${over ? ", over budget" : ""}`);
    bar.append(
      svg("rect", { class: "bar-track", x: 0, y: height * 0.2, width, height: height * 0.6 }),
      svg("rect", { class: over ? "bar-over" : used >= mark ? "bar-warn" : "bar-fill", x: 0,
        y: height * 0.2, height: height * 0.6, width: Math.min(width, (used / 100) * width) }),
      svg("line", { class: "threshold", x1: at, x2: at, y1: 0, y2: height }));
    const words = over
      ? el("span", { class: "standing over" }, `Over budget by ${money(magnitude(item.remaining))}`)
      : el("span", { class: "standing" }, `${money(item.remaining)} left`);
    list.append(el("li", { "data-budget": item.category ?? "Overall" },
      el("span", { class: "what" }, budgetWords(item, money)),
      words, el("span", { class: "chart" }, bar)));
  }
  target.replaceChildren(list);
}

// Axis values at round steps (1, 2, 2.5 or 5 times a power of ten), about four of them.
function scale(max) {
  const raw = max / 4 || 25;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const top = Math.max(step, Math.ceil(max / step) * step);
  return Array.from({ length: Math.round(top / step) + 1 }, (_, n) => n * step);
}

// Income and expenses per month: a value axis, a month axis and a legend, the page's text size.
export function drawTrend(target, items, money, currency) {
  const { width, font } = frame(target, () => drawTrend(target, items, money, currency));
  const height = Math.round(font * 17);
  const gap = Math.round(font * 0.5);
  const ticks = scale(Math.max(0, ...items.flatMap((i) => [Number(i.income), Number(i.expense)])));
  const top = ticks.at(-1);
  const chart = canvas(width, height, "Income and expenses per month: " +
    items.map((i) => `${i.month} income ${money(i.income)}, expenses ${money(i.expense)}`).join("; "));
  target.replaceChildren(chart);

  const legendY = font * 0.75;
  const plotTop = font * 2.5, plotBottom = height - font * 2;
  const y = (v) => plotBottom - (Number(v) / top) * (plotBottom - plotTop);
  const tickTexts = ticks.map((v) => svg("text", { class: "tick", y: y(v), "dominant-baseline": "central",
    "text-anchor": "end" }, axisMoney(v, currency, top >= 100_000)));
  chart.append(...tickTexts);
  const left = Math.ceil(Math.max(...tickTexts.map((t) => textWidth(t, font)))) + gap;
  for (const t of tickTexts) t.setAttribute("x", left - gap);
  const right = width - gap;
  for (const v of ticks) {
    chart.append(svg("line", { class: v ? "gridline" : "axis", x1: left, x2: right, y1: y(v), y2: y(v) }));
  }

  const band = (right - left) / Math.max(1, items.length);
  const x = (n) => left + band * (n + 0.5);
  const line = (key) => items.map((i, n) => `${n ? "L" : "M"}${x(n).toFixed(1)},${y(i[key]).toFixed(1)}`).join("");
  chart.append(svg("path", { class: "line-income", d: line("income") }),
    svg("path", { class: "line-expense", d: line("expense") }));
  items.forEach((i, n) => {
    for (const [key, words] of [["income", "income"], ["expense", "expenses"]]) {
      chart.append(svg("circle", { class: `dot-${key}`, cx: x(n), cy: y(i[key]), r: 3 },
        svg("title", {}, `${monthLabel(i.month)} ${words} ${money(i[key])}`)));
    }
  });

  const months = items.map((i, n) => svg("text", { class: "month", x: x(n), y: height - font * 0.75,
    "text-anchor": "middle", "dominant-baseline": "central" }, monthLabel(i.month)));
  chart.append(...months);
  // Every month that has room for its name, counted back from the latest.
  const every = Math.ceil((Math.max(0, ...months.map((m) => textWidth(m, font))) + gap) / band);
  months.forEach((m, n) => { if ((items.length - 1 - n) % every) m.remove(); });

  let legendX = left;
  for (const [key, words] of [["income", "Income"], ["expense", "Expenses"]]) {
    const swatch = Math.round(font * 0.75);
    const text = svg("text", { class: "legend", x: legendX + swatch + gap / 2, y: legendY,
      "dominant-baseline": "central" }, words);
    chart.append(svg("rect", { class: `legend-${key}`, x: legendX, y: legendY - swatch / 2,
      width: swatch, height: swatch }), text);
    legendX += swatch + gap / 2 + textWidth(text, font) + font * 1.5;
  }
}
