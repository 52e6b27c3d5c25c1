// Small DOM helpers shared by the app's modules.

/** The element with id `id`. */
export const $ = (id) => document.getElementById(id);

/** Show `text` in the alert box (kind "error" or "info"). */
export function showMessage(text, kind = "error") {
  const box = $("message");
  box.textContent = text;
  box.classList.toggle("info", kind === "info");
  box.hidden = false;
}

/** Hide the alert box. */
export function clearMessage() {
  const box = $("message");
  box.textContent = "";
  box.hidden = true;
}

/** A probability as a percentage with one decimal. */
export function percent(p) {
  return `${(p * 100).toFixed(1)}%`;
}
