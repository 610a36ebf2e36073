// Forms and their errors: a refusal is written next to its field (aria-invalid on the field) and
// in the form's own alert; the submit button is disabled while the request runs.

import { Problem } from "./api.js";

export function clearErrors(form) {
  for (const p of form.querySelectorAll(".error")) p.textContent = "";
  for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
}

// `explain(body)` may put a refusal in plain words (a budget's); else its detail is shown.
export function showProblem(form, error, explain = () => null) {
  if (!(error instanceof Problem)) throw error;
  const body = error.body;
  let general = explain(body) ?? (body.detail || body.title);
  if (body.code === "validation_error" && body.errors) {
    general = "Please correct the fields marked below.";
    for (const [field, messages] of Object.entries(body.errors)) {
      const slot = form.querySelector(`.error[data-for="${field}"]`);
      const input = form.elements[field];
      if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
      if (slot) slot.textContent = [].concat(messages).join(" ");
      else general += ` ${field}: ${[].concat(messages).join(" ")}`;
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
