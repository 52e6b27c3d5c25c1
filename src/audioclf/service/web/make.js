// "Make a model": a dataset of clips per class (recorded or uploaded), a training job
// followed live, its test figures, "Try it", and promotion to the registry. Every call but
// /v1/predict carries the admin key, which is kept in this tab's sessionStorage only.

import { ApiError, api, explain, fetchOk } from "./api.js";
import { barList } from "./charts.js";
import { $, clearMessage, percent, showMessage } from "./dom.js";
import { microphoneProblem } from "./mic.js";
import { clipRecorder } from "./record.js";

const KEY_STORE = "audioclf.adminKey";
const DATASET_STORE = "audioclf.make.dataset";
const JOB_STORE = "audioclf.make.job";
const RECORD_MS = 5000;
const POLL_MS = 1000;
const TERMINAL = new Set(["done", "failed", "cancelled"]);
const AUDIO_TYPES = "audio/*,video/webm,.wav,.flac,.mp3,.ogg,.opus,.webm,.m4a";
const TRY = "\u0000try"; // the owner of the microphone while "Try it" records

const state = {
  key: "",
  dataset: null, // DatasetInfo
  clips: [], // ClipInfo, oldest first
  cards: new Map(), // class name -> its card's elements and recorder
  urls: new Map(), // clip id -> blob URL of its audio
  uploads: 0,
  recording: null, // the class whose card records (or TRY)
  job: null, // the JobInfo shown
  follow: null, // AbortController of the job's event stream or polling
  ended: null, // the job whose end was already shown
  tryRecorder: null,
};

// ---------- small helpers ----------

function stored(name) {
  try {
    return sessionStorage.getItem(name) || "";
  } catch {
    return "";
  }
}

function store(name, value) {
  try {
    if (value) {
      sessionStorage.setItem(name, value);
    } else {
      sessionStorage.removeItem(name);
    }
  } catch {
    // storage disabled: the value lasts as long as the page
  }
}

function element(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text) {
    node.textContent = text;
  }
  return node;
}

function sentence(text) {
  const t = String(text || "").trim();
  return t && !/[.!?]$/.test(t) ? `${t}.` : t;
}

/** The message for a failed call: the server's `detail`, with what to do. */
function say(error) {
  if (!(error instanceof ApiError)) {
    return explain(error);
  }
  const detail = sentence(error.detail);
  switch (error.status) {
    case 401:
      return `The admin key was refused: ${detail || "missing or wrong key."} Check it and enter it again.`;
    case 403:
      return detail || "The admin API is off on this server: it has no admin key configured.";
    case 404:
      return detail || "Not found.";
    case 503:
      return detail ? `The server is busy: ${detail}` : explain(error);
    default:
      if (error.status >= 400 && error.status < 500 && ![413, 415, 422, 429].includes(error.status)) {
        return detail || explain(error);
      }
      return explain(error);
  }
}

function trainingOff() {
  return "Training is off on this server: start it with `audioclf serve --training` (or AUDIOCLF_TRAINING=1).";
}

function withKey(options = {}) {
  return { ...options, headers: { ...(options.headers || {}), "X-API-Key": state.key } };
}

/** An admin API call (JSON in, JSON out). */
function call(path, options = {}) {
  return api(path, withKey(options));
}

function postJson(path, body) {
  return call(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

function datasetPath(...parts) {
  return ["/v1/datasets", ...[state.dataset.id, ...parts].map(encodeURIComponent)].join("/");
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : word.endsWith("s") ? "es" : "s"}`;
}

// ---------- the admin key ----------

/** Whether the server says training is on (true when it does not say: then the first
 * admin call's 404 tells). */
async function trainingEnabled() {
  try {
    const body = await api("/healthz");
    return !(body && body.training === false);
  } catch {
    return true;
  }
}

async function useKey(event) {
  if (event) {
    event.preventDefault();
  }
  state.key = $("api-key").value.trim();
  if (!state.key) {
    showMessage("Enter the server's admin key first.");
    return;
  }
  clearMessage();
  $("key-status").textContent = "Checking the key…";
  let datasets;
  try {
    datasets = await loadDatasets();
  } catch (error) {
    $("key-status").textContent = "";
    showMessage(error instanceof ApiError && error.status === 404 ? trainingOff() : say(error));
    return;
  }
  store(KEY_STORE, state.key);
  $("key-status").textContent = "Key accepted.";
  $("dataset-section").hidden = false;
  const last = stored(DATASET_STORE);
  if (last && datasets.some((d) => d.id === last)) {
    $("dataset-select").value = last;
    await openDataset(last);
  }
}

function forgetKey() {
  stopFollowing();
  stopRecorders();
  state.key = "";
  state.dataset = null;
  for (const name of [KEY_STORE, DATASET_STORE, JOB_STORE]) {
    store(name, "");
  }
  $("api-key").value = "";
  for (const id of ["dataset-section", "classes-section", "train-section", "result-section"]) {
    $(id).hidden = true;
  }
  clearMessage();
  $("key-status").textContent = "The key is forgotten.";
}

// ---------- choosing or creating a dataset ----------

function datasetLabel(d) {
  return `${d.name} — ${d.classes.join(", ")} · ${plural(d.clips, "clip")}`;
}

async function loadDatasets(selected = "") {
  const body = await call("/v1/datasets");
  const datasets = body.datasets || [];
  const select = $("dataset-select");
  select.replaceChildren();
  for (const d of datasets) {
    const option = document.createElement("option");
    option.value = d.id;
    option.textContent = datasetLabel(d);
    select.append(option);
  }
  if (!datasets.length) {
    const option = document.createElement("option");
    option.value = "";
    option.textContent = "No dataset yet: create one";
    select.append(option);
  }
  select.disabled = !datasets.length;
  $("open-button").disabled = !datasets.length;
  if (selected) {
    select.value = selected;
  }
  return datasets;
}

function classInput(value = "") {
  const list = $("class-inputs");
  const n = list.children.length + 1;
  const item = element("li", "class-input");
  const id = `class-name-${Date.now().toString(36)}-${n}`;
  const label = element("label", "", `Class ${n}`);
  label.htmlFor = id;
  const input = element("input");
  input.type = "text";
  input.id = id;
  input.maxLength = 100;
  input.autocomplete = "off";
  input.value = value;
  const remove = element("button", "small", "Remove");
  remove.type = "button";
  remove.addEventListener("click", () => {
    item.remove();
    renumberClassInputs();
  });
  const row = element("div", "input-row");
  row.append(input, remove);
  item.append(label, row);
  list.append(item);
  renumberClassInputs();
  return input;
}

function renumberClassInputs() {
  const items = [...$("class-inputs").children];
  items.forEach((item, i) => {
    item.querySelector("label").textContent = `Class ${i + 1}`;
    const remove = item.querySelector("button");
    remove.hidden = items.length <= 2;
    remove.setAttribute("aria-label", `Remove class ${i + 1}`);
  });
}

async function createDataset(event) {
  event.preventDefault();
  clearMessage();
  const name = $("dataset-name").value.trim();
  const classes = [...$("class-inputs").querySelectorAll("input")]
    .map((input) => input.value.trim())
    .filter(Boolean);
  if (!name) {
    showMessage("Give the dataset a name.");
    $("dataset-name").focus();
    return;
  }
  if (classes.length < 2) {
    showMessage("Name at least 2 classes: a model tells classes apart.");
    return;
  }
  $("create-button").disabled = true;
  try {
    const info = await postJson("/v1/datasets", { name, classes });
    await loadDatasets(info.id);
    showDataset(info, []);
    $("dataset-name").value = "";
    $("class-inputs").replaceChildren();
    classInput();
    classInput();
  } catch (error) {
    showMessage(say(error));
  } finally {
    $("create-button").disabled = false;
  }
}

async function openSelected(event) {
  event.preventDefault();
  const id = $("dataset-select").value;
  if (id) {
    clearMessage();
    await openDataset(id);
  }
}

async function openDataset(id) {
  let info;
  let clips;
  try {
    const path = `/v1/datasets/${encodeURIComponent(id)}`;
    [info, clips] = await Promise.all([call(path), call(`${path}/clips`)]);
  } catch (error) {
    showMessage(say(error));
    return;
  }
  showDataset(info, clips.clips || []);
  const jobId = info.active_job || stored(JOB_STORE);
  if (!jobId) {
    return;
  }
  try {
    const job = await call(`/v1/jobs/${encodeURIComponent(jobId)}`);
    if (job.dataset === info.id) {
      showJob(job);
      if (!TERMINAL.has(job.state)) {
        follow(job.id);
      }
    }
  } catch {
    store(JOB_STORE, ""); // an old job the server no longer has
  }
}

function showDataset(info, clips) {
  stopFollowing();
  stopRecorders();
  for (const url of state.urls.values()) {
    URL.revokeObjectURL(url);
  }
  state.urls.clear();
  state.dataset = info;
  state.clips = clips;
  state.job = null;
  state.ended = null;
  store(DATASET_STORE, info.id);
  $("dataset-title").textContent = info.name;
  $("classes-section").hidden = false;
  $("train-section").hidden = false;
  $("result-section").hidden = true;
  $("job-progress").hidden = true;
  $("job-stage").textContent = "";
  $("cancel-button").hidden = true;
  buildCards();
  updateSummary();
  updateTrain();
}

// ---------- class cards ----------

function countOf(label) {
  return state.clips.filter((c) => c.label === label).length;
}

function buildCards() {
  state.cards.clear();
  const cards = state.dataset.classes.map((label, i) => buildCard(label, i));
  $("class-cards").replaceChildren(...cards);
  for (const label of state.dataset.classes) {
    updateCard(label);
  }
}

function buildCard(label, index) {
  const id = `class-${index}`;
  const card = element("article", "card class-card");
  card.dataset.class = label;
  card.setAttribute("aria-labelledby", `${id}-name`);
  const title = element("h3", "", label);
  title.id = `${id}-name`;
  const count = element("p", "count");
  count.setAttribute("aria-live", "polite");
  const warning = element("p", "warning");
  warning.id = `${id}-warning`;

  const mode = element("div", "mode");
  const button = element("button", "primary record");
  button.type = "button";
  button.setAttribute("aria-pressed", "false");
  const buttonLabel = element("span", "", "Record");
  const dot = element("span", "dot");
  dot.setAttribute("aria-hidden", "true");
  button.append(dot, buttonLabel);
  const level = element("div", "level");
  level.setAttribute("aria-hidden", "true");
  const fill = element("div", "level-fill");
  level.append(fill);
  const elapsed = element("span", "elapsed", "0:00");
  elapsed.setAttribute("role", "timer");
  elapsed.setAttribute("aria-label", `Recording time for “${label}”`);
  mode.append(button, level, elapsed);

  const upload = element("div", "drop-zone");
  const fileLabel = element("label", "file-label");
  fileLabel.htmlFor = `${id}-files`;
  const seconds = state.dataset.limits.max_clip_seconds;
  fileLabel.append(
    element("span", "file-title", "Upload files"),
    element("span", "muted", `several at once, up to ${seconds} s each`),
  );
  const input = element("input");
  input.type = "file";
  input.id = `${id}-files`;
  input.multiple = true;
  input.accept = AUDIO_TYPES;
  upload.append(fileLabel, input);

  const list = element("ul", "clips");
  list.setAttribute("aria-label", `Clips of “${label}”`);

  card.append(title, count, warning, mode, upload, list);

  const entry = { card, count, warning, button, buttonLabel, list, items: new Map() };
  entry.recorder = clipRecorder({
    elapsed,
    fill,
    maxMs: RECORD_MS,
    setOn: (on) => setRecording(on ? label : null),
  });
  button.addEventListener("click", () => {
    const dataset = state.dataset; // the recording belongs here even if another is opened
    entry.recorder.toggle((blob, filename) => uploadClips(dataset, label, [{ blob, filename }]));
  });
  const uploadFiles = (files) =>
    uploadClips(
      state.dataset,
      label,
      [...(files || [])].map((file) => ({ blob: file, filename: file.name || "upload" })),
    );
  input.addEventListener("change", () => {
    const files = [...(input.files || [])];
    input.value = "";
    uploadFiles(files);
  });
  const on = (event) => {
    event.preventDefault();
    upload.classList.add("dragging");
  };
  const off = () => upload.classList.remove("dragging");
  upload.addEventListener("dragenter", on);
  upload.addEventListener("dragover", on);
  upload.addEventListener("dragleave", off);
  upload.addEventListener("drop", (event) => {
    event.preventDefault();
    off();
    uploadFiles(event.dataTransfer && event.dataTransfer.files);
  });
  state.cards.set(label, entry);
  labelRecordButton(label, false);
  button.disabled = state.recording !== null;
  return card;
}

function labelRecordButton(label, on) {
  const entry = state.cards.get(label);
  entry.button.setAttribute("aria-pressed", String(on));
  entry.buttonLabel.textContent = on ? "Stop" : "Record";
  entry.button.setAttribute("aria-label", on ? `Stop recording “${label}”` : `Record “${label}” (up to ${RECORD_MS / 1000} s)`);
}

/** The microphone's owner changed (a class, TRY, or null): only it may press its button. */
function setRecording(owner) {
  const previous = state.recording;
  state.recording = owner;
  for (const label of state.cards.keys()) {
    labelRecordButton(label, owner === label);
    state.cards.get(label).button.disabled = owner !== null && owner !== label;
  }
  if (owner === TRY || previous === TRY) {
    const on = owner === TRY;
    $("try-record").setAttribute("aria-pressed", String(on));
    $("try-record-label").textContent = on ? "Stop" : "Record";
  }
  $("try-record").disabled = owner !== null && owner !== TRY;
  updateTrain();
}

function stopRecorders() {
  for (const entry of state.cards.values()) {
    entry.recorder.stop();
  }
  if (state.tryRecorder) {
    state.tryRecorder.stop();
  }
}

function clipItem(clip) {
  const item = element("li", "clip");
  item.dataset.clip = clip.id;
  const name = element("span", "clip-name");
  const play = element("button", "small", "Play");
  play.type = "button";
  play.addEventListener("click", () => playClip(clip, item, play));
  const remove = element("button", "small danger", "Delete");
  remove.type = "button";
  remove.addEventListener("click", () => deleteClip(clip, remove));
  const row = element("div", "clip-row");
  row.append(name, play, remove);
  item.append(row);
  return { item, name, play, remove };
}

function updateCard(label) {
  const entry = state.cards.get(label);
  if (!entry) {
    return;
  }
  const clips = state.clips.filter((c) => c.label === label);
  const min = state.dataset.limits.min_clips_per_class;
  entry.count.textContent = plural(clips.length, "clip");
  entry.card.dataset.count = String(clips.length);
  const short = min - clips.length;
  entry.warning.hidden = short <= 0;
  entry.warning.textContent =
    short > 0 ? `Needs at least ${plural(min, "clip")} to train: ${short} more.` : "";
  const seen = new Set();
  const items = clips.map((clip, i) => {
    seen.add(clip.id);
    let parts = entry.items.get(clip.id);
    if (!parts) {
      parts = clipItem(clip);
      entry.items.set(clip.id, parts);
    }
    const who = clip.speaker ? ` · ${clip.speaker}` : "";
    parts.name.textContent = `#${i + 1} · ${clip.seconds.toFixed(1)} s${who}`;
    parts.play.setAttribute("aria-label", `Play clip ${i + 1} of “${label}”`);
    parts.remove.setAttribute("aria-label", `Delete clip ${i + 1} of “${label}”`);
    return parts.item;
  });
  for (const id of [...entry.items.keys()]) {
    if (!seen.has(id)) {
      entry.items.delete(id);
    }
  }
  entry.list.replaceChildren(...items);
}

function updateSummary(activity = "") {
  const ds = state.dataset;
  const seconds = state.clips.reduce((sum, c) => sum + (c.seconds || 0), 0);
  const text = `${plural(state.clips.length, "clip")}, ${seconds.toFixed(1)} s of audio in ${plural(ds.classes.length, "class")}.`;
  $("dataset-summary").textContent = activity ? `${activity} ${text}` : text;
  const speakers = ds.speakers || [];
  $("speakers-so-far").textContent = speakers.length
    ? `Speakers so far: ${speakers.join(", ")}${speakers.length >= 3 ? " — enough to hold speakers out." : "."}`
    : "No clip names its speaker yet.";
  const option = [...$("dataset-select").options].find((o) => o.value === ds.id);
  if (option) {
    option.textContent = datasetLabel({ ...ds, clips: state.clips.length });
  }
}

// ---------- clips: upload, play, delete ----------

async function uploadClips(dataset, label, items) {
  if (!items.length || !dataset) {
    return;
  }
  const speaker = $("speaker").value.trim();
  state.uploads += items.length;
  updateTrain();
  let added = 0;
  for (const [i, { blob, filename }] of items.entries()) {
    const here = () => state.dataset === dataset;
    if (here()) {
      updateSummary(`Uploading “${filename}” to “${label}” (${i + 1} of ${items.length})…`);
      updateTrain();
    }
    const query = new URLSearchParams({ label });
    if (speaker) {
      query.set("speaker", speaker);
    }
    const form = new FormData();
    form.append("file", blob, filename);
    try {
      const path = `/v1/datasets/${encodeURIComponent(dataset.id)}/clips?${query}`;
      const clip = await call(path, { method: "POST", body: form });
      added += 1;
      if (here()) {
        state.clips.push(clip);
        if (clip.speaker && !(dataset.speakers || []).includes(clip.speaker)) {
          dataset.speakers = [...(dataset.speakers || []), clip.speaker];
        }
        updateCard(label);
      }
    } catch (error) {
      if (here()) {
        showMessage(`“${filename}” was not added: ${say(error)}`);
      }
    } finally {
      state.uploads -= 1;
    }
  }
  if (state.dataset === dataset) {
    updateSummary(`Added ${plural(added, "clip")} to “${label}”.`);
  }
  updateTrain();
}

async function playClip(clip, item, button) {
  let audio = item.querySelector("audio");
  if (!audio) {
    button.disabled = true;
    try {
      const response = await fetchOk(datasetPath("clips", clip.id), withKey());
      const url = URL.createObjectURL(await response.blob());
      state.urls.set(clip.id, url);
      audio = document.createElement("audio");
      audio.controls = true;
      audio.src = url;
      audio.setAttribute("aria-label", button.getAttribute("aria-label").replace(/^Play/, "Player for"));
      item.append(audio);
    } catch (error) {
      showMessage(say(error));
      return;
    } finally {
      button.disabled = false;
    }
  }
  audio.currentTime = 0;
  audio.play().catch(() => {
    // autoplay refused: the player's own controls still work
  });
}

async function deleteClip(clip, button) {
  clearMessage();
  button.disabled = true;
  try {
    await call(datasetPath("clips", clip.id), { method: "DELETE" });
  } catch (error) {
    button.disabled = false;
    showMessage(say(error));
    return;
  }
  state.clips = state.clips.filter((c) => c.id !== clip.id);
  const url = state.urls.get(clip.id);
  if (url) {
    URL.revokeObjectURL(url);
    state.urls.delete(clip.id);
  }
  updateCard(clip.label);
  updateSummary(`Deleted a clip of “${clip.label}”.`);
  updateTrain();
}

async function addClass(event) {
  event.preventDefault();
  clearMessage();
  const name = $("new-class").value.trim();
  if (!name || !state.dataset) {
    return;
  }
  try {
    const info = await postJson(datasetPath("classes"), { name });
    state.dataset = { ...state.dataset, ...info };
    const label = info.classes.find((c) => !state.cards.has(c));
    if (label) {
      $("class-cards").append(buildCard(label, state.cards.size));
      updateCard(label);
    }
    $("new-class").value = "";
    updateSummary(`Added the class “${name}”.`);
    updateTrain();
  } catch (error) {
    showMessage(say(error));
  }
}

// ---------- training ----------

function jobRunning() {
  return Boolean(state.job) && !TERMINAL.has(state.job.state);
}

/** Why Train cannot be pressed now, or "" when it can. */
function trainBlocker() {
  const ds = state.dataset;
  if (!ds) {
    return "Open or create a dataset first.";
  }
  if (jobRunning()) {
    return "A training job runs on this dataset: wait for it, or cancel it.";
  }
  if (state.recording !== null) {
    return "Stop the recording first.";
  }
  if (state.uploads) {
    return "Wait until the uploads finish.";
  }
  const min = ds.limits.min_clips_per_class;
  const short = ds.classes.filter((c) => countOf(c) < min);
  if (short.length) {
    const list = short.map((c) => `“${c}” has ${countOf(c)}`).join(", ");
    return `Every class needs at least ${plural(min, "clip")}: ${list}.`;
  }
  return "";
}

function updateTrain() {
  const reason = trainBlocker();
  $("train-button").disabled = Boolean(reason);
  $("train-reason").textContent = reason || `Ready to train on ${plural(state.clips.length, "clip")}.`;
}

function jobOptions() {
  const options = {
    dataset: state.dataset.id,
    model: $("train-model").value.trim() || "auto",
    time_budget_minutes: Number($("budget").value),
  };
  const split = $("train-split").value;
  if (split !== "auto") {
    options.split = split;
  }
  const epochs = $("train-epochs").value.trim();
  if (epochs) {
    options.epochs = Number(epochs);
  }
  const name = $("train-name").value.trim();
  if (name) {
    options.name = name;
  }
  return options;
}

async function train() {
  clearMessage();
  if (trainBlocker()) {
    return;
  }
  $("train-button").disabled = true;
  let job;
  try {
    job = await postJson("/v1/jobs", jobOptions());
  } catch (error) {
    showMessage(say(error));
    updateTrain();
    return;
  }
  store(JOB_STORE, job.id);
  $("result-section").hidden = true;
  state.ended = null;
  showJob(job);
  follow(job.id);
}

function stageText(job) {
  switch (job.state) {
    case "queued":
      return "Queued: waiting for the trainer…";
    case "running":
      return `Training: ${job.stage || "starting…"}`;
    case "done":
      return job.stage && job.stage !== "done" ? `Done: ${job.stage}` : "Done.";
    case "failed":
      return `Failed: ${job.error || "no reason given."}`;
    case "cancelled":
      return `Cancelled${job.error ? `: ${job.error}` : "."}`;
    default:
      return job.state;
  }
}

function showJob(job) {
  const previous = state.job && state.job.id === job.id ? state.job.progress || 0 : 0;
  const progress = Math.max(job.progress || 0, previous); // an event may overtake a poll
  state.job = { ...job, progress };
  const value = job.state === "done" ? 1 : progress;
  $("job-progress").hidden = false;
  $("job-bar").value = value;
  $("job-percent").textContent = `${Math.round(value * 100)}%`;
  $("job-stage").textContent = stageText(job);
  $("train-section").dataset.state = job.state;
  $("cancel-button").hidden = TERMINAL.has(job.state);
  updateTrain();
  if (TERMINAL.has(job.state) && state.ended !== job.id) {
    state.ended = job.id;
    finished(state.job);
  }
}

function finished(job) {
  if (job.state === "done") {
    renderResult(job);
  } else if (job.state === "failed") {
    showMessage(`Training failed: ${sentence(job.error) || "the server gave no reason."}`);
  } else if (job.state === "cancelled") {
    showMessage(`Training was cancelled${job.error ? `: ${sentence(job.error)}` : "."}`, "info");
  }
}

function stopFollowing() {
  if (state.follow) {
    state.follow.abort();
    state.follow = null;
  }
}

/** Follow a job to its end: its event stream, else polling every second. */
async function follow(jobId) {
  stopFollowing();
  const controller = new AbortController();
  state.follow = controller;
  const { signal } = controller;
  let ended = false;
  try {
    ended = await readEvents(jobId, signal);
  } catch {
    ended = false;
  }
  if (!ended && !signal.aborted) {
    await poll(jobId, signal);
  }
  if (state.follow === controller) {
    state.follow = null;
  }
}

/** One server-sent event's JobInfo, or null for a comment or another event. */
function parseEvent(block) {
  let name = "message";
  const data = [];
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (!line || line.startsWith(":")) {
      continue;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") {
      name = value;
    } else if (field === "data") {
      data.push(value);
    }
  }
  if (!data.length || (name !== "job" && name !== "message")) {
    return null;
  }
  try {
    return JSON.parse(data.join("\n"));
  } catch {
    return null;
  }
}

/** Read GET /v1/jobs/{id}/events; true once a terminal state was shown. */
async function readEvents(jobId, signal) {
  const response = await fetchOk(
    `/v1/jobs/${encodeURIComponent(jobId)}/events`,
    withKey({ headers: { Accept: "text/event-stream" }, cache: "no-store", signal }),
  );
  if (!response.body || !window.TextDecoderStream) {
    return false;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return false;
    }
    buffer += value;
    for (;;) {
      const end = /\r\n\r\n|\n\n|\r\r/.exec(buffer);
      if (!end) {
        break;
      }
      const job = parseEvent(buffer.slice(0, end.index));
      buffer = buffer.slice(end.index + end[0].length);
      if (signal.aborted) {
        return true;
      }
      if (job && job.id === jobId) {
        showJob(job);
        if (TERMINAL.has(job.state)) {
          reader.cancel().catch(() => {});
          return true;
        }
      }
    }
  }
}

async function poll(jobId, signal) {
  while (!signal.aborted) {
    try {
      const job = await call(`/v1/jobs/${encodeURIComponent(jobId)}`, { signal, cache: "no-store" });
      if (signal.aborted) {
        return;
      }
      showJob(job);
      if (TERMINAL.has(job.state)) {
        return;
      }
    } catch (error) {
      if (signal.aborted) {
        return;
      }
      showMessage(say(error));
      if ([401, 403, 404].includes(error.status)) {
        return;
      }
    }
    await sleep(POLL_MS, signal);
  }
}

async function cancelJob() {
  const job = state.job;
  if (!job || TERMINAL.has(job.state)) {
    return;
  }
  clearMessage();
  $("cancel-button").disabled = true;
  try {
    const info = await call(`/v1/jobs/${encodeURIComponent(job.id)}`, { method: "DELETE" });
    showJob(info);
    if (!TERMINAL.has(info.state)) {
      $("job-stage").textContent = "Stopping…";
    }
  } catch (error) {
    showMessage(say(error));
  } finally {
    $("cancel-button").disabled = false;
  }
}

// ---------- the result ----------

function metric(list, name, value, key) {
  const wrap = element("div", "metric");
  wrap.dataset.metric = key;
  wrap.append(element("dt", "", name), element("dd", "", value));
  list.append(wrap);
}

function renderMetrics(job) {
  const list = $("metrics");
  list.replaceChildren();
  const m = job.metrics;
  if (!m) {
    metric(list, "Test figures", "none (no clip was held out)", "none");
    return;
  }
  const show = (v) => (v == null ? "–" : percent(v));
  metric(list, "Accuracy", show(m.accuracy), "accuracy");
  metric(list, "Balanced accuracy", show(m.balanced_accuracy), "balanced_accuracy");
  metric(list, "Macro-F1", show(m.macro_f1), "macro_f1");
  metric(list, "Test clips", m.n_test == null ? "–" : String(m.n_test), "n_test");
}

function renderConfusion(metrics) {
  const table = $("confusion");
  table.replaceChildren();
  if (!metrics || !metrics.labels || !metrics.confusion) {
    table.hidden = true;
    return;
  }
  table.hidden = false;
  table.createCaption().textContent =
    "Confusion matrix of the test clips: each row is a true class, each column a predicted class.";
  const head = table.createTHead().insertRow();
  const corner = document.createElement("td");
  corner.className = "corner";
  corner.textContent = "true ↓ predicted →";
  head.append(corner);
  for (const label of metrics.labels) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = label;
    head.append(th);
  }
  const body = table.createTBody();
  metrics.confusion.forEach((row, i) => {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = metrics.labels[i];
    tr.append(th);
    row.forEach((n, j) => {
      const cell = tr.insertCell();
      cell.textContent = String(n);
      if (i === j) {
        cell.className = "hit";
      } else if (n > 0) {
        cell.className = "miss";
      }
    });
  });
}

function renderResult(job) {
  $("result-section").hidden = false;
  $("result-model").textContent = job.model;
  $("promote-name").textContent = job.model;
  renderMetrics(job);
  const notes = $("notes");
  notes.replaceChildren(...(job.notes || []).map((note) => element("li", "", note)));
  renderConfusion(job.metrics);
  $("try-result").replaceChildren();
  const served = job.served !== false;
  $("try-record").disabled = !served || (state.recording !== null && state.recording !== TRY);
  $("try-file").disabled = !served;
  $("try-summary").textContent = served
    ? `Record or upload a clip: “${job.model}” on this server classifies it.`
    : `This server has not loaded “${job.model}”, so it cannot be tried here.`;
  const promoted = job.version != null;
  $("promote-button").disabled = promoted;
  $("promote-status").textContent = promoted ? `Promoted: version ${job.version} is in the registry.` : "";
  if (promoted) {
    $("promote-status").dataset.version = String(job.version);
  } else {
    delete $("promote-status").dataset.version;
  }
}

async function tryClip(blob, filename, source) {
  const job = state.job;
  if (!job || job.state !== "done") {
    return;
  }
  clearMessage();
  $("try-summary").textContent = "Classifying…";
  const form = new FormData();
  form.append("file", blob, filename);
  try {
    const body = await api(`/v1/predict?model=${encodeURIComponent(job.model)}`, {
      method: "POST",
      body: form,
    });
    const r = body.results[0];
    const top = r.top.label;
    const line = element("p", "try-top");
    line.dataset.label = top;
    line.append("Top label: ", element("strong", "", top), ` (${percent(r.probabilities[top])})`);
    $("try-result").replaceChildren(line, barList(r.labels, r.probabilities, top));
    $("try-summary").textContent = `${source}: ${body.duration_seconds.toFixed(1)} s of audio.`;
  } catch (error) {
    $("try-summary").textContent = "";
    $("try-result").replaceChildren();
    showMessage(say(error));
  }
}

async function promote() {
  const job = state.job;
  if (!job || job.state !== "done") {
    return;
  }
  clearMessage();
  $("promote-button").disabled = true;
  $("promote-status").textContent = "Promoting…";
  try {
    const answer = await call(`/v1/jobs/${encodeURIComponent(job.id)}/promote`, { method: "POST" });
    job.version = answer.version;
    $("promote-status").dataset.version = String(answer.version);
    $("promote-status").textContent =
      `Promoted: “${answer.name}” version ${answer.version} is now ${answer.stage} in the registry.`;
  } catch (error) {
    $("promote-status").textContent = "";
    $("promote-button").disabled = false;
    showMessage(say(error));
  }
}

// ---------- start ----------

async function init() {
  $("key-form").addEventListener("submit", useKey);
  $("forget-key").addEventListener("click", forgetKey);
  $("open-form").addEventListener("submit", openSelected);
  $("create-form").addEventListener("submit", createDataset);
  $("add-class-input").addEventListener("click", () => classInput().focus());
  $("new-class-form").addEventListener("submit", addClass);
  $("train-button").addEventListener("click", train);
  $("cancel-button").addEventListener("click", cancelJob);
  $("promote-button").addEventListener("click", promote);
  classInput();
  classInput();
  state.tryRecorder = clipRecorder({
    elapsed: $("try-elapsed"),
    fill: $("try-level"),
    maxMs: RECORD_MS,
    setOn: (on) => setRecording(on ? TRY : null),
  });
  $("try-record").addEventListener("click", () =>
    state.tryRecorder.toggle((blob, filename) => tryClip(blob, filename, "Recording")),
  );
  $("try-file").addEventListener("change", (event) => {
    const file = event.target.files && event.target.files[0];
    event.target.value = "";
    if (file) {
      tryClip(file, file.name || "upload", `“${file.name}”`);
    }
  });
  // a file dropped beside an input must not navigate away from the page
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());
  window.addEventListener("pagehide", () => {
    stopFollowing();
    for (const url of state.urls.values()) {
      URL.revokeObjectURL(url);
    }
  });

  const problem = microphoneProblem();
  if (problem) {
    showMessage(problem, "info");
  }
  if (!(await trainingEnabled())) {
    showMessage(trainingOff(), "info");
    for (const node of $("key-form").elements) {
      node.disabled = true;
    }
    return;
  }
  const key = stored(KEY_STORE);
  if (key) {
    $("api-key").value = key;
    await useKey();
  }
}

init();
