// Forms and their errors: a refusal is written next to its field (aria-invalid on the field) and
// in the form's own alert; the submit button is disabled while the request runs.

import { Problem } from "./api.js";

export function clearErrors(form) {
  for (const p of form.querySelectorAll(".error")) p.textContent = "";
  for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
}

// Where a field's messages go: its own slot and input ("splits.1.amount"), else the nearest
// enclosing field's ("tags.3" is written under "tags", naming itself).
function placeFor(form, field) {
  for (let name = field; name; name = name.includes(".") ? name.slice(0, name.lastIndexOf(".")) : "") {
    const slot = form.querySelector(`.error[data-for="${CSS.escape(name)}"]`);
    if (slot) return { slot, input: form.elements[name], prefix: name === field ? "" : `${field}: ` };
  }
  return { slot: null, input: form.elements[field], prefix: "" };
}

// `explain(body)` may put a refusal in plain words (a budget's); else its detail is shown. Field
// errors (a validation error's, or a refusal naming its field such as splits_mismatch) are
// written next to their fields.
export function showProblem(form, error, explain = () => null) {
  if (!(error instanceof Problem)) throw error;
  const body = error.body;
  let general = explain(body) ?? (body.detail || body.title);
  if (body.errors) {
    if (body.code === "validation_error") general = "Please correct the fields marked below.";
    const written = new Set();
    for (const [field, messages] of Object.entries(body.errors)) {
      const { slot, input, prefix } = placeFor(form, field);
      const text = prefix + [].concat(messages).join(" ");
      if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
      if (!slot) general += ` ${field}: ${text}`;
      else slot.textContent = written.has(slot) ? `${slot.textContent} ${text}` : text;
      written.add(slot);
    }
  }
  form.querySelector('.error[data-for="form"]').textContent = general;
}

function values(form) {
  const data = {};
  for (const [k, v] of new FormData(form).entries()) data[k] = v;
  return data;
}

export function onSubmit(form, handler, explain) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      await handler(values(form));
    } catch (error) {
      showProblem(form, error, explain);
    } finally {
      button.disabled = false;
    }
  });
}
