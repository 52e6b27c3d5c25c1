// On-device live mode, off the page's thread: the microphone's samples (already at the
// model's rate: live.js captures at it) in, rolling predictions out, like WS /v1/stream.
// Silent windows are skipped: each frame's RMS is compared with a running noise floor.
//
// Messages in:  {type: "start", bytes, card} once, then {type: "audio", samples}.
// Messages out: {type: "ready"}, {type: "result", t, top, probabilities, ms},
//               {type: "silence", t}, {type: "error", message}.

import { createSession, labelled, runGraph } from "./ort-session.js";

const WINDOW_SECONDS = 2.0; // the server's stream_window and stream_hop defaults
const HOP_SECONDS = 0.5;
const FRAME_SECONDS = 0.1;
const VOICE_RATIO = 3.0; // a frame is voiced ~10 dB over the noise floor...
const MIN_LEVEL = 1e-3; // ...and over -60 dBFS
const FLOOR_START = 1e-3;
const FLOOR_LOWEST = 1e-5;
const FLOOR_RISE_PER_SECOND = 1.26; // +2 dB/s, so a steady hum becomes the floor in time
const MIN_VOICED_SECONDS = 0.3;

/** Frame RMS against a running noise floor: the floor drops at once to a quieter frame
 * and creeps up slowly, so it follows the quietest recent sound. */
class NoiseGate {
  constructor(frameSeconds) {
    this.floor = FLOOR_START;
    this.rise = FLOOR_RISE_PER_SECOND ** frameSeconds;
  }

  voiced(frame) {
    let sum = 0;
    for (const v of frame) {
      sum += v * v;
    }
    const rms = Math.sqrt(sum / Math.max(1, frame.length));
    const voiced = rms > Math.max(MIN_LEVEL, this.floor * VOICE_RATIO);
    this.floor = Math.max(FLOOR_LOWEST, rms < this.floor ? rms : this.floor * this.rise);
    return voiced;
  }
}

/** The last WINDOW_SECONDS of audio, cut into frames with their voicing. */
class Window {
  constructor(rate, seconds) {
    this.frameSize = Math.max(1, Math.round(rate * FRAME_SECONDS));
    this.capacity = Math.max(this.frameSize, Math.round(rate * seconds));
    this.samples = new Float32Array(this.capacity);
    this.filled = 0;
    this.frames = []; // voicing of the frames in the window, oldest first
    this.partial = new Float32Array(this.frameSize);
    this.partialFilled = 0;
    this.gate = new NoiseGate(FRAME_SECONDS);
  }

  push(chunk) {
    const n = Math.min(chunk.length, this.capacity);
    this.samples.copyWithin(0, n);
    this.samples.set(chunk.subarray(chunk.length - n), this.capacity - n);
    this.filled = Math.min(this.capacity, this.filled + n);
    this.gateFrames(chunk);
  }

  gateFrames(chunk) {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, this.frameSize - this.partialFilled);
      this.partial.set(chunk.subarray(offset, offset + take), this.partialFilled);
      this.partialFilled += take;
      offset += take;
      if (this.partialFilled === this.frameSize) {
        this.frames.push(this.gate.voiced(this.partial));
        this.partialFilled = 0;
      }
    }
    const kept = Math.ceil(this.capacity / this.frameSize);
    this.frames.splice(0, Math.max(0, this.frames.length - kept));
  }

  /** Voice in the window, some of it new since the last hop. */
  hasVoice(hopFrames) {
    const voiced = this.frames.filter(Boolean).length;
    const recent = this.frames.slice(-hopFrames).some(Boolean);
    return recent && voiced * FRAME_SECONDS >= MIN_VOICED_SECONDS - 1e-9;
  }

  current() {
    return this.samples.slice(this.capacity - this.filled);
  }
}

const stream = { model: null, card: null, window: null, heard: 0, pending: 0, busy: false };

async function start(bytes, card) {
  stream.card = card;
  stream.model = await createSession(bytes, 1); // one thread: the page and the audio need the rest
  const seconds = Math.min(WINDOW_SECONDS, card.max_seconds);
  stream.window = new Window(card.sample_rate, seconds);
  postMessage({ type: "ready" });
}

async function predict(t) {
  const { card } = stream;
  stream.busy = true;
  try {
    const { probabilities, ms } = await runGraph(stream.model, card, stream.window.current());
    const result = labelled(card, probabilities);
    postMessage({ type: "result", t, top: result.label, probabilities: result.probabilities, ms });
  } finally {
    stream.busy = false;
  }
}

function hear(samples) {
  const rate = stream.card.sample_rate;
  stream.window.push(samples);
  stream.heard += samples.length;
  stream.pending += samples.length;
  const hop = Math.max(1, Math.round(HOP_SECONDS * rate));
  if (stream.pending < hop) {
    return null;
  }
  stream.pending %= hop;
  const t = stream.heard / rate;
  if (!stream.window.hasVoice(Math.ceil(HOP_SECONDS / FRAME_SECONDS))) {
    postMessage({ type: "silence", t });
    return null;
  }
  // a window still being classified: this hop is dropped rather than queued behind it
  return stream.busy ? null : predict(t);
}

async function handle(message) {
  if (message.type === "start") {
    await start(message.bytes, message.card);
  } else if (message.type === "audio" && stream.window) {
    await hear(message.samples);
  }
}

self.addEventListener("message", (event) => {
  handle(event.data).catch((error) => {
    postMessage({ type: "error", message: (error && error.message) || String(error) });
  });
});
