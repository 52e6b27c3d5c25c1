// audioclf browser app: record, upload or stream audio and show what every model hears,
// classified by the server or, "On this device", in the page (ondevice.js), where no audio
// is sent. Plain ES2020 modules; the one dependency, ONNX Runtime Web, is vendored. Only
// the user's choices are kept (localStorage); audio and results never leave memory.

import { api, explain } from "./api.js";
import { barList, drawTimeline, renderTimeline } from "./charts.js";
import { $, clearMessage, percent, showMessage } from "./dom.js";
import { feedbackControl } from "./feedback.js";
import { isLive, startLive, stopLive } from "./live.js";
import { microphoneProblem } from "./mic.js";
import { OnDeviceError, decodeAudio, load } from "./ondevice.js";
import { wasmProblem } from "./ort-session.js";
import { toggleRecording } from "./record.js";

const CHOICES_KEY = "audioclf.choices";
const LONG_CLIP_SECONDS = 15;
const VAD_CHOICES = ["", "energy", "silero", "none"];

// ondevice: the user's own choice of the switch (null: follow the selected models);
// pending: what "Use the server instead" runs once the user agrees to send the audio
const state = { models: [], busy: false, lastTimeline: null, ondevice: null, pending: null };

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
    ondevice: state.ondevice,
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
    const here = m.web ? " · can run on this device" : "";
    details.textContent = ` — ${describeModel(m)} · ${m.labels.length} classes (${m.model})${here}`;
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

/** One model's result: title, task and timing, and a bar per class. */
function resultBlock(model, labels, probabilities, top, timing) {
  const block = document.createElement("article");
  block.className = "model-result";
  block.dataset.model = model;
  const title = document.createElement("h3");
  title.textContent = `${model}: ${top} (${percent(probabilities[top])})`;
  const meta = document.createElement("p");
  meta.className = "meta muted";
  const info = modelInfo(model);
  const task = info && info.task ? `${info.task} · ` : "";
  meta.textContent = `${task}${timing}`;
  block.append(title, meta, barList(labels, probabilities, top));
  return block;
}

function showResultBlocks(blocks) {
  const container = $("results");
  container.replaceChildren(...blocks);
  container.classList.toggle("many", blocks.length > 1);
}

function renderResults(body, source, blob, filename) {
  const blocks = body.results.map((r) => {
    const timing = `inference ${r.timing_ms.inference.toFixed(1)} ms`;
    const block = resultBlock(r.model, r.labels, r.probabilities, r.top.label, timing);
    if (r.prediction_id && r.labels.length > 1) {
      block.append(feedbackControl(r, blob, filename));
    }
    return block;
  });
  showResultBlocks(blocks);
  const seconds = body.duration_seconds.toFixed(1);
  let summary = `${source}: ${seconds} s of audio, answered in ${Math.round(body.timing_ms.total)} ms.`;
  if (body.duration_seconds > LONG_CLIP_SECONDS && !$("timeline-toggle").checked) {
    summary += " This is a long clip: tick Timeline to see how the predictions change over time.";
  }
  $("results-summary").textContent = summary;
}

function feedbackUnavailable() {
  const note = document.createElement("p");
  note.className = "feedback-note muted";
  note.textContent =
    "Corrections are not available for results made on this device: they refer to a " +
    "prediction the server made, and this clip was never sent.";
  return note;
}

function renderDeviceResults(results, source) {
  const blocks = results.map((r) => {
    const labels = Object.keys(r.probabilities);
    const timing = `${r.ms.toFixed(1)} ms on this device`;
    const block = resultBlock(r.model, labels, r.probabilities, r.label, timing);
    block.dataset.where = "device";
    if (labels.length > 1) {
      block.append(feedbackUnavailable());
    }
    return block;
  });
  showResultBlocks(blocks);
  const first = results[0];
  const total = results.reduce((sum, r) => sum + r.ms, 0);
  let summary =
    `${source}: ${first.seconds.toFixed(1)} s of audio, classified on this device in ` +
    `${Math.round(total)} ms; no audio was sent to the server.`;
  if (first.cut) {
    const scored = first.scoredSeconds.toFixed(0);
    summary += ` Only the first ${scored} s were classified (the longest clip the page runs at once).`;
  }
  if ($("timeline-toggle").checked) {
    summary += " The timeline is computed by the server: turn off On this device to see it.";
  }
  $("results-summary").textContent = summary;
}

// ---------- on this device ----------

/** The models the selection runs: the one chosen, or every model for "all". */
function selectedModels() {
  const model = selectedModel();
  return model === "all" ? state.models.map((m) => m.name) : [model];
}

function webCapable(name) {
  const info = modelInfo(name);
  return Boolean(info && info.web === true);
}

/** Whether the page would classify `name` as the server does (its export is the whole
 * served model); a partial export (an ensemble's networks only, or another candidate)
 * is used only when the user turns the switch on. */
function webWhole(name) {
  const info = modelInfo(name);
  return Boolean(info && info.web === true && info.web_whole === true);
}

/** What a partial export gives up, for the note under the switch ("" when none is). */
function partialNote(names) {
  const partial = names.filter((name) => webCapable(name) && !webWhole(name));
  return partial
    .map((name) => {
      const info = modelInfo(name);
      const here = info.web_accuracy == null ? "unmeasured" : percent(info.web_accuracy);
      const server = info.metrics && info.metrics.accuracy != null ? percent(info.metrics.accuracy) : "unmeasured";
      return (
        ` On this device “${name}” runs a smaller model than the server's ` +
        `(held-out accuracy ${here} here, ${server} on the server).`
      );
    })
    .join("");
}

function onDevice() {
  return $("ondevice-toggle").checked;
}

function cantRunText(names) {
  const quoted = names.map((n) => `“${n}”`).join(", ");
  const one = names.length === 1;
  const subject = one ? quoted : `These models (${quoted})`;
  return (
    `${subject} can't run in this page: the server has no web export of ${one ? "it" : "them"} ` +
    "(only small models whose whole front end runs in a browser are exported)."
  );
}

/** Say why the selection can't run here and offer the server; `action` is what the
 * button then runs (the clip or live mode the user asked for), if anything. */
function offerServer(text, action = null) {
  state.pending = action;
  $("ondevice-problem-text").textContent = text;
  $("server-fallback").textContent = action
    ? "Send it to the server instead"
    : "Use the server instead";
  $("ondevice-problem").hidden = false;
}

function hideProblem() {
  state.pending = null;
  $("ondevice-problem").hidden = true;
}

/** The reason the selection can't run here before anything is downloaded, or null. */
function knownProblem() {
  const names = selectedModels();
  if (!names.length) {
    return "No model is loaded on this server, so there is nothing to run on this device.";
  }
  const missing = names.filter((name) => !webCapable(name));
  if (missing.length) {
    return cantRunText(missing);
  }
  return wasmProblem();
}

/** The note under the switch, and the can't-run-here box when it applies. */
function explainOnDevice() {
  hideProblem();
  if (!onDevice()) {
    $("ondevice-note").textContent =
      "Off: the audio is sent to the server, classified there and not stored.";
    return;
  }
  $("ondevice-note").textContent =
    "On: no audio leaves this page; the model is downloaded once." + partialNote(selectedModels());
  const problem = state.models.length ? knownProblem() : null;
  if (problem) {
    offerServer(problem);
  }
}

/** The switch as the user set it, else on when every selected model runs in the page
 * whole. */
function syncOnDevice() {
  const names = selectedModels();
  const allowed = names.length > 0 && names.every(webWhole);
  $("ondevice-toggle").checked = state.ondevice === null ? allowed : state.ondevice;
  explainOnDevice();
}

function useServer() {
  const action = state.pending;
  hideProblem();
  state.ondevice = false;
  $("ondevice-toggle").checked = false;
  saveChoices();
  explainOnDevice();
  if (action) {
    action();
  }
}

function showProgress(name, { received, total }) {
  const mb = (bytes) => (bytes / 1e6).toFixed(1);
  $("ondevice-progress-row").hidden = false;
  $("ondevice-progress").value = total ? Math.min(1, received / total) : 0;
  $("ondevice-progress-text").textContent =
    `Downloading “${name}” for this device: ${mb(received)} of ${mb(total)} MB`;
}

async function loadHere(name) {
  try {
    return await load(name, { onProgress: (progress) => showProgress(name, progress) });
  } finally {
    $("ondevice-progress-row").hidden = true;
  }
}

/** Classify in the page with every selected model, decoding once per sample rate. */
async function classifyHere(blob, source) {
  const decoded = new Map();
  const results = [];
  for (const name of selectedModels()) {
    setBusy(`Loading “${name}” on this device…`);
    const model = await loadHere(name);
    const rate = model.card.sample_rate;
    setBusy("Analysing the audio on this device…");
    if (!decoded.has(rate)) {
      decoded.set(rate, await decodeAudio(blob, rate));
    }
    results.push(await model.classify(decoded.get(rate), rate));
  }
  renderDeviceResults(results, source);
  $("timeline-section").hidden = true;
  state.lastTimeline = null;
}

// ---------- sending audio ----------

function audioForm(blob, filename) {
  const form = new FormData();
  form.append("file", blob, filename);
  return form;
}

/** Classify a clip on this device or, with the switch off, on the server. */
function classify(blob, filename, source) {
  if (onDevice()) {
    classifyOnDevice(blob, filename, source);
  } else {
    classifyOnServer(blob, filename, source);
  }
}

async function classifyOnDevice(blob, filename, source) {
  if (state.busy) {
    showMessage("Still analysing the previous clip; try again when it is done.", "info");
    return;
  }
  clearMessage();
  hideProblem();
  const onServer = () => classifyOnServer(blob, filename, source);
  const problem = knownProblem();
  if (problem) {
    offerServer(problem, onServer);
    return;
  }
  try {
    await classifyHere(blob, source);
  } catch (error) {
    const text =
      error instanceof OnDeviceError
        ? error.message
        : `Something went wrong on this device: ${error.message || error}`;
    offerServer(text, onServer);
    $("results-summary").textContent = `No result. ${text}`;
    $("results").replaceChildren();
  } finally {
    setBusy("");
  }
}

async function classifyOnServer(blob, filename, source) {
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

async function startLiveOnDevice(name, note) {
  const onServer = () => startLive(name, note);
  const problem = webCapable(name) ? wasmProblem() : cantRunText([name]);
  if (problem) {
    offerServer(problem, onServer);
    return;
  }
  setBusy(`Loading “${name}” on this device…`);
  try {
    const device = await loadHere(name);
    await startLive(name, note, { device, onFailure: (text) => offerServer(text, onServer) });
  } catch (error) {
    offerServer(error instanceof OnDeviceError ? error.message : String(error), onServer);
  } finally {
    setBusy("");
  }
}

function toggleLive() {
  if (isLive()) {
    stopLive();
    return;
  }
  if (state.busy) {
    return;
  }
  clearMessage();
  hideProblem();
  const note = selectedModel() === "all" ? "live mode runs one model" : "";
  if (onDevice()) {
    startLiveOnDevice(singleModel(), note);
  } else {
    startLive(singleModel(), note);
  }
}

function init() {
  const choices = loadChoices();
  $("timeline-toggle").checked = Boolean(choices.timeline);
  if (VAD_CHOICES.includes(choices.vad)) {
    $("vad-select").value = choices.vad;
  }
  state.ondevice = typeof choices.ondevice === "boolean" ? choices.ondevice : null;
  for (const id of ["model-select", "timeline-toggle", "vad-select"]) {
    $(id).addEventListener("change", saveChoices);
  }
  $("model-select").addEventListener("change", syncOnDevice);
  $("ondevice-toggle").addEventListener("change", () => {
    state.ondevice = onDevice();
    saveChoices();
    explainOnDevice();
  });
  $("server-fallback").addEventListener("click", useServer);
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
  loadModels().then(syncOnDevice);
}

init();
