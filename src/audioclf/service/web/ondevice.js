// On-device mode: a model's web export (GET /v1/models/{name}/web, one ONNX graph from the
// raw waveform to class probabilities, and its card) downloaded once into the Cache API
// and run in the page by ONNX Runtime Web. Audio is decoded and resampled here too, so in
// this mode no audio leaves the browser. The only signal processing in JavaScript is the
// resampling to the card's rate (OfflineAudioContext); the graph does the rest.

import { ApiError, api, explain } from "./api.js";
import {
  OnDeviceError,
  createSession,
  labelled,
  loadRuntime,
  runGraph,
  threadCount,
} from "./ort-session.js";

export { OnDeviceError } from "./ort-session.js";

const CACHE_NAME = "audioclf-web-models";
const CARD_FORMAT = "audioclf-web";
const CARD_VERSION = 1;

const models = new Map();
let current = null;

function modelUrl(name) {
  return `/v1/models/${encodeURIComponent(name)}/web`;
}

async function readCard(name) {
  let card;
  try {
    card = await api(`${modelUrl(name)}/card`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      const why = (error.detail || "it has no web export").replace(/\.$/, "");
      throw new OnDeviceError(`“${name}” can't run in this page: ${why}.`);
    }
    throw new OnDeviceError(`Could not get “${name}” for this device. ${explain(error)}`);
  }
  if (!card || card.format !== CARD_FORMAT || card.version !== CARD_VERSION) {
    throw new OnDeviceError(
      `The server's web export of “${name}” is in a format this page does not know ` +
        `(${card && card.format} v${card && card.version}); reload the page.`,
    );
  }
  return card;
}

async function sha256Hex(bytes) {
  if (!(globalThis.crypto && crypto.subtle)) {
    return null;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether `bytes` are the graph the card describes (its SHA-256, or its size where the
 * page has no Web Crypto). */
async function matchesCard(bytes, card) {
  const digest = await sha256Hex(bytes);
  return digest === null ? bytes.byteLength === card.bytes : digest === card.sha256;
}

async function openCache() {
  if (!globalThis.caches) {
    return null; // no Cache API (not a secure context): the HTTP cache (ETag) still applies
  }
  try {
    return await caches.open(CACHE_NAME);
  } catch {
    return null;
  }
}

async function cachedGraph(cache, url, card) {
  const response = cache && (await cache.match(url));
  if (!response) {
    return null;
  }
  const bytes = await response.arrayBuffer();
  if (await matchesCard(bytes, card)) {
    return bytes;
  }
  await cache.delete(url); // an older version of the model
  return null;
}

async function readBody(response, total, onProgress) {
  if (!response.body) {
    return response.arrayBuffer();
  }
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  onProgress({ received, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    chunks.push(value);
    received += value.length;
    onProgress({ received, total });
  }
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes.buffer;
}

async function downloadGraph(url, card, onProgress) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin" });
  } catch {
    throw new OnDeviceError(
      "Cannot reach the server to download the model. Check your connection and try again.",
    );
  }
  if (!response.ok) {
    throw new OnDeviceError(`The model download failed: the server answered ${response.status}.`);
  }
  const total = Number(response.headers.get("Content-Length")) || card.bytes;
  const bytes = await readBody(response, total, onProgress);
  if (!(await matchesCard(bytes, card))) {
    throw new OnDeviceError(
      "The downloaded model does not match its card (damaged, or replaced during the download). Try again.",
    );
  }
  return bytes;
}

async function storeGraph(cache, url, bytes) {
  if (!cache) {
    return;
  }
  try {
    const headers = { "Content-Type": "application/octet-stream" };
    await cache.put(url, new Response(bytes.slice(0), { headers }));
  } catch {
    // storage full or refused: the model works, and is downloaded again next visit
  }
}

/** The graph of `card`: from the Cache API when it holds this version, else downloaded
 * (reporting progress) and stored there. */
async function fetchGraph(name, card, onProgress) {
  const url = modelUrl(name);
  const cache = await openCache();
  const cached = await cachedGraph(cache, url, card);
  if (cached) {
    return cached;
  }
  const bytes = await downloadGraph(url, card, onProgress);
  await storeGraph(cache, url, bytes);
  return bytes;
}

/** Resample mono `samples` from `fromRate` to `toRate` Hz in the page. */
export async function resample(samples, fromRate, toRate) {
  const length = Math.max(1, Math.round((samples.length * toRate) / fromRate));
  const context = new OfflineAudioContext(1, length, toRate);
  const buffer = context.createBuffer(1, samples.length, fromRate);
  buffer.copyToChannel(samples, 0);
  const source = context.createBufferSource();
  source.buffer = buffer;
  source.connect(context.destination);
  source.start();
  const rendered = await context.startRendering();
  return rendered.getChannelData(0);
}

function mixdown(buffer) {
  if (buffer.numberOfChannels === 1) {
    return buffer.getChannelData(0);
  }
  const mono = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c += 1) {
    const channel = buffer.getChannelData(c);
    for (let i = 0; i < mono.length; i += 1) {
      mono[i] += channel[i];
    }
  }
  for (let i = 0; i < mono.length; i += 1) {
    mono[i] /= buffer.numberOfChannels;
  }
  return mono;
}

/** Decode an audio file in the page into mono float32 samples at `sampleRate` (the
 * decoding context runs at that rate, so a file already at it is not resampled). */
export async function decodeAudio(blob, sampleRate) {
  const data = await blob.arrayBuffer();
  const context = new OfflineAudioContext(1, 1, sampleRate);
  let buffer;
  try {
    buffer = await context.decodeAudioData(data);
  } catch (error) {
    throw new OnDeviceError(
      `This browser could not read the file as audio (${(error && error.message) || error}). ` +
        "Try WAV, FLAC, MP3, OGG or WebM.",
    );
  }
  return mixdown(buffer);
}

async function classifyWith(model, samples, sampleRate) {
  const { card } = model;
  const rate = card.sample_rate;
  let y = sampleRate === rate ? samples : await resample(samples, sampleRate, rate);
  if (!y.length) {
    throw new OnDeviceError("The clip is empty: there is no audio to classify.");
  }
  const seconds = y.length / rate;
  const limit = Math.max(1, Math.floor(card.max_seconds * rate));
  if (y.length > limit) {
    y = y.slice(0, limit);
  }
  const { probabilities, ms } = await runGraph(model.session, card, y);
  return {
    model: model.name,
    ...labelled(card, probabilities),
    ms,
    seconds,
    scoredSeconds: y.length / rate,
    cut: y.length < seconds * rate,
  };
}

async function open(name, onProgress, numThreads) {
  const card = await readCard(name);
  await loadRuntime(numThreads); // fail before the download when WASM can't run here
  const bytes = await fetchGraph(name, card, onProgress);
  const session = await createSession(bytes, numThreads);
  const model = { name, card, bytes, threads: numThreads, session };
  model.classify = (samples, sampleRate) => classifyWith(model, samples, sampleRate);
  return model;
}

/**
 * Make `modelName` ready to run in the page: its card, its graph (downloaded once, with
 * `onProgress({received, total})` in bytes) and an ONNX Runtime session on the WASM
 * backend with `numThreads` threads (min(4, cores) when cross-origin isolated, else 1).
 * Resolves to the model ({name, card, bytes, threads, classify}); throws an
 * OnDeviceError whose message is for the user when it can't run here.
 */
export async function load(modelName, { onProgress = () => {}, numThreads = threadCount() } = {}) {
  if (!models.has(modelName)) {
    const opening = open(modelName, onProgress, numThreads);
    models.set(modelName, opening);
    opening.catch(() => models.delete(modelName));
  }
  current = await models.get(modelName);
  return current;
}

/**
 * Classify mono float32 `samples` at `sampleRate` Hz with the model loaded last:
 * `{label, probabilities: {label: p}, ms, seconds, scoredSeconds, cut, model}`. Audio at
 * another rate is resampled to the card's; a clip longer than the card's max_seconds is
 * cut to it (`cut` says so).
 */
export function classify(samples, sampleRate) {
  if (!current) {
    return Promise.reject(new OnDeviceError("No model has been loaded on this device yet."));
  }
  return current.classify(samples, sampleRate);
}
