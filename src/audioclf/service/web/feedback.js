// "Wrong? Pick the right label" under each result. The clip is sent back only when the
// user ticks consent; without it only the label correction leaves the browser.

import { api, explain } from "./api.js";

let counter = 0;

/** The feedback control for one model's result (`result.prediction_id` must be set). */
export function feedbackControl(result, blob, filename) {
  counter += 1;
  const id = `fb-${counter}`;
  const box = document.createElement("details");
  box.className = "feedback";
  const summary = document.createElement("summary");
  summary.textContent = "Wrong? Pick the right label";
  const form = document.createElement("form");
  const labelFor = document.createElement("label");
  labelFor.htmlFor = `${id}-label`;
  labelFor.textContent = "The right label";
  const select = document.createElement("select");
  select.id = `${id}-label`;
  for (const label of result.labels) {
    if (label !== result.top.label) {
      const option = document.createElement("option");
      option.value = label;
      option.textContent = label;
      select.append(option);
    }
  }
  const consent = document.createElement("input");
  consent.type = "checkbox";
  consent.id = `${id}-consent`;
  const consentLabel = document.createElement("label");
  consentLabel.htmlFor = consent.id;
  consentLabel.textContent = "Keep this clip to improve the model (otherwise only the label is sent)";
  const send = document.createElement("button");
  send.type = "submit";
  send.textContent = "Send correction";
  const status = document.createElement("p");
  status.className = "muted";
  status.setAttribute("aria-live", "polite");
  const consentRow = document.createElement("div");
  consentRow.className = "options";
  consentRow.append(consent, consentLabel);
  form.append(labelFor, select, consentRow, send, status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = new FormData();
    body.append("prediction_id", result.prediction_id);
    body.append("feedback_token", result.feedback_token || "");
    body.append("label", select.value);
    body.append("consent", consent.checked ? "true" : "false");
    if (consent.checked) {
      body.append("file", blob, filename);
    }
    send.disabled = true;
    status.textContent = "Sending…";
    try {
      const answer = await api("/v1/feedback", { method: "POST", body });
      status.textContent = answer.clip_kept
        ? `Thank you: “${answer.correct_label}” recorded, and the clip kept for retraining.`
        : `Thank you: “${answer.correct_label}” recorded (the clip was not kept).`;
      select.disabled = true;
      consent.disabled = true;
    } catch (error) {
      status.textContent = explain(error);
      send.disabled = false;
    }
  });
  box.append(summary, form);
  return box;
}
