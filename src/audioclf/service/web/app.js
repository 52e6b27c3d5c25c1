// audioclf browser app: record, upload or stream audio and show what every model hears.
// Plain ES2020 modules, no dependencies. Only the user's choices are kept (localStorage);
// audio and results never leave memory.

import { api, explain } from "./api.js";
import { barList, drawTimeline, renderTimeline } from "./charts.js";
import { $, clearMessage, percent, showMessage } from "./dom.js";
import { feedbackControl } from "./feedback.js";
import { isLive, startLive, stopLive } from "./live.js";
import { microphoneProblem } from "./mic.js";
import { toggleRecording } from "./record.js";

const CHOICES_KEY = "audioclf.choices";
const LONG_CLIP_SECONDS = 15;
const VAD_CHOICES = ["", "energy", "silero", "none"];

const state = { models: [], busy: false, lastTimeline: null };

function setBusy(text) {
  state.busy = Boolean(text);
  $("busy").textContent = text || "";
}

// ---------- choices (the only thing kept client-side) ----------

function loadChoices() {
  try {
    return JSON.parse(localStorage.getItem(CHOICES_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

function saveChoices() {
  const choices = {
    model: $("model-select").value,
    timeline: $("timeline-toggle").checked,
    vad: $("vad-select").value,
  };
  try {
    localStorage.setItem(CHOICES_KEY, JSON.stringify(choices));
  } catch {
    // storage may be disabled (private mode); choices then last for this page only
  }
}

// ---------- models ----------

function selectedModel() {
  return $("model-select").value || "all";
}

/** The one model for timeline and live mode: the selected one, or the first for "all". */
function singleModel() {
  const model = selectedModel();
  return model === "all" ? (state.models[0] || {}).name : model;
}

function modelInfo(name) {
  return state.models.find((m) => m.name === name);
}

function describeModel(m) {
  const acc =
    m.metrics && m.metrics.accuracy != null
      ? `test accuracy ${percent(m.metrics.accuracy)}`
      : "no test metrics";
  return m.task ? `${m.task} · ${acc}` : acc;
}

async function loadModels() {
  const select = $("model-select");
  const status = $("models-status");
  try {
    const body = await api("/v1/models");
    state.models = body.models || [];
  } catch (error) {
    status.textContent = "Could not load the model list.";
    showMessage(explain(error));
    return;
  }
  const list = $("model-list");
  list.replaceChildren();
  for (const m of state.models) {
    const option = document.createElement("option");
    option.value = m.name;
    option.textContent = `${m.name} — ${describeModel(m)}`;
    select.append(option);

    const item = document.createElement("li");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = m.name;
    const details = document.createElement("span");
    details.className = "muted";
    details.textContent = ` — ${describeModel(m)} · ${m.labels.length} classes (${m.model})`;
    item.append(name, details);
    list.append(item);
  }
  select.disabled = false;
  const n = state.models.length;
  status.textContent = n
    ? `${n} model${n === 1 ? "" : "s"} loaded.`
    : "No model is loaded on this server.";
  const choices = loadChoices();
  if (choices.model && [...select.options].some((o) => o.value === choices.model)) {
    select.value = choices.model;
  }
}

// ---------- results ----------

function renderResults(body, source, blob, filename) {
  const container = $("results");
  container.replaceChildren();
  container.classList.toggle("many", body.results.length > 1);
  for (const r of body.results) {
    const block = document.createElement("article");
    block.className = "model-result";
    block.dataset.model = r.model;
    const title = document.createElement("h3");
    title.textContent = `${r.model}: ${r.top.label} (${percent(r.top.probability)})`;
    const meta = document.createElement("p");
    meta.className = "meta muted";
    const info = modelInfo(r.model);
    const task = info && info.task ? `${info.task} · ` : "";
    meta.textContent = `${task}inference ${r.timing_ms.inference.toFixed(1)} ms`;
    block.append(title, meta, barList(r.labels, r.probabilities, r.top.label));
    if (r.prediction_id && r.labels.length > 1) {
      block.append(feedbackControl(r, blob, filename));
    }
    container.append(block);
  }
  const seconds = body.duration_seconds.toFixed(1);
  let summary = `${source}: ${seconds} s of audio, answered in ${Math.round(body.timing_ms.total)} ms.`;
  if (body.duration_seconds > LONG_CLIP_SECONDS && !$("timeline-toggle").checked) {
    summary += " This is a long clip: tick Timeline to see how the predictions change over time.";
  }
  $("results-summary").textContent = summary;
}

// ---------- sending audio ----------

function audioForm(blob, filename) {
  const form = new FormData();
  form.append("file", blob, filename);
  return form;
}

async function classify(blob, filename, source) {
  if (state.busy) {
    showMessage("Still analysing the previous clip; try again when it is done.", "info");
    return;
  }
  clearMessage();
  const model = selectedModel();
  setBusy("Analysing the audio…");
  try {
    const body = await api(`/v1/predict?model=${encodeURIComponent(model)}`, {
      method: "POST",
      body: audioForm(blob, filename),
    });
    renderResults(body, source, blob, filename);
    const name = singleModel();
    if ($("timeline-toggle").checked && name) {
      setBusy("Computing the timeline…");
      const vad = $("vad-select").value;
      const query = `model=${encodeURIComponent(name)}${vad ? `&vad=${encodeURIComponent(vad)}` : ""}`;
      const timeline = await api(`/v1/predict/timeline?${query}`, {
        method: "POST",
        body: audioForm(blob, filename),
      });
      renderTimeline(timeline);
      state.lastTimeline = timeline;
    } else {
      $("timeline-section").hidden = true;
      state.lastTimeline = null;
    }
  } catch (error) {
    const text = explain(error);
    showMessage(text);
    $("results-summary").textContent = `No result. ${text}`;
    $("results").replaceChildren();
  } finally {
    setBusy("");
  }
}

// ---------- upload ----------

function handleFiles(files) {
  const file = files && files[0];
  if (file) {
    classify(file, file.name || "upload", `“${file.name}”`);
  }
}

function setupDrop() {
  const zone = $("drop-zone");
  const on = (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  };
  const off = () => zone.classList.remove("dragging");
  zone.addEventListener("dragenter", on);
  zone.addEventListener("dragover", on);
  zone.addEventListener("dragleave", off);
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    off();
    handleFiles(event.dataTransfer && event.dataTransfer.files);
  });
  // a file dropped beside the zone must not navigate away from the app
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());
  $("file-input").addEventListener("change", (event) => {
    handleFiles(event.target.files);
    event.target.value = "";
  });
}

// ---------- start ----------

function toggleLive() {
  if (isLive()) {
    stopLive();
  } else {
    const note = selectedModel() === "all" ? "live mode runs one model" : "";
    startLive(singleModel(), note);
  }
}

function init() {
  const choices = loadChoices();
  $("timeline-toggle").checked = Boolean(choices.timeline);
  if (VAD_CHOICES.includes(choices.vad)) {
    $("vad-select").value = choices.vad;
  }
  for (const id of ["model-select", "timeline-toggle", "vad-select"]) {
    $(id).addEventListener("change", saveChoices);
  }
  $("record-button").addEventListener("click", () =>
    toggleRecording((blob, filename) => classify(blob, filename, "Recording")),
  );
  $("live-button").addEventListener("click", toggleLive);
  setupDrop();
  window.addEventListener("resize", () => {
    if (state.lastTimeline && !$("timeline-section").hidden) {
      drawTimeline(state.lastTimeline);
    }
  });
  const problem = microphoneProblem();
  if (problem) {
    showMessage(problem, "info");
  }
  loadModels();
}

init();
