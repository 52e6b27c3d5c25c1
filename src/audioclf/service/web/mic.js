// Microphone access, the level meter and recording formats.

import { $, showMessage } from "./dom.js";

const MIME_PREFERENCE = [
  "audio/webm;codecs=opus",
  "audio/webm",
  "audio/ogg;codecs=opus",
  "audio/mp4",
  "audio/mpeg",
];

/** Why the microphone cannot be used on this page, or null when it can. */
export function microphoneProblem() {
  if (!window.isSecureContext) {
    return "The microphone only works on a secure page: open this app over HTTPS (or on http://localhost). Uploading files still works.";
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return "This browser cannot record audio. Upload a file instead.";
  }
  return null;
}

function explainMicError(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return "Microphone permission was denied. Allow the microphone for this site in the browser's address bar or settings, then try again.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
    return "No microphone was found. Plug one in (or enable it), or upload a file instead.";
  }
  if (name === "NotReadableError" || name === "AbortError") {
    return "The microphone is busy or failed to start. Close other apps using it and try again.";
  }
  return `Could not start the microphone: ${(error && error.message) || error}`;
}

/** A mono microphone stream; throws an Error whose `friendly` text explains the failure. */
export async function openMicrophone() {
  const problem = microphoneProblem();
  if (problem) {
    throw Object.assign(new Error(problem), { friendly: problem });
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false },
    });
  } catch (error) {
    throw Object.assign(new Error(explainMicError(error)), { friendly: explainMicError(error) });
  }
}

/** The microphone's stream, or null after telling the user why it cannot be opened. */
export async function microphoneOrExplain() {
  try {
    return await openMicrophone();
  } catch (error) {
    showMessage(error.friendly || String(error));
    return null;
  }
}

/** Start the level meter on `stream` (drawn in `fill`, by default #level-fill); returns an
 * object whose stop() ends it. */
export function startMeter(stream, fill = $("level-fill")) {
  const AudioCtx = window.AudioContext || window.webkitAudioContext;
  const context = new AudioCtx();
  const source = context.createMediaStreamSource(stream);
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  source.connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  const meter = {
    frame: 0,
    stop() {
      cancelAnimationFrame(meter.frame);
      context.close().catch(() => {});
      fill.style.width = "0";
    },
  };
  const tick = () => {
    analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (const v of data) {
      sum += v * v;
    }
    const rms = Math.sqrt(sum / data.length);
    const db = 20 * Math.log10(rms + 1e-8);
    const level = Math.max(0, Math.min(1, (db + 60) / 60));
    fill.style.width = `${(level * 100).toFixed(0)}%`;
    meter.frame = requestAnimationFrame(tick);
  };
  tick();
  return meter;
}

/** m:ss for a duration in milliseconds. */
export function formatElapsed(ms) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** The first recording format of MIME_PREFERENCE the browser supports ("" = its default). */
export function pickMimeType() {
  if (!window.MediaRecorder || !MediaRecorder.isTypeSupported) {
    return "";
  }
  return MIME_PREFERENCE.find((t) => MediaRecorder.isTypeSupported(t)) || "";
}

/** A file extension for a recording MIME type. */
export function extensionFor(mime) {
  if (mime.includes("webm")) return "webm";
  if (mime.includes("ogg")) return "ogg";
  if (mime.includes("mp4")) return "m4a";
  if (mime.includes("mpeg")) return "mp3";
  return "audio";
}
