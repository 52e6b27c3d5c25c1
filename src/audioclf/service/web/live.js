// Live mode: microphone → AudioWorklet (or ScriptProcessor) → float32 frames, either over
// the WebSocket /v1/stream to the server or, on this device, to a Worker that runs the
// model in the page (ondevice-worker.js) → rolling predictions shown as bars.

import { barList } from "./charts.js";
import { $, clearMessage, showMessage } from "./dom.js";
import { microphoneOrExplain, startMeter } from "./mic.js";

let live = null;

function socketUrl(model) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/v1/stream?model=${encodeURIComponent(model)}`;
}

async function captureNode(context, source, send) {
  if (context.audioWorklet) {
    try {
      await context.audioWorklet.addModule("/static/worklet.js");
      const node = new AudioWorkletNode(context, "pcm-capture");
      node.port.onmessage = (event) => send(event.data);
      source.connect(node);
      $("live-section").dataset.capture = "worklet";
      // a silent path to the destination keeps the node in the rendered graph
      const mute = context.createGain();
      mute.gain.value = 0;
      node.connect(mute).connect(context.destination);
      return node;
    } catch {
      // fall through to the ScriptProcessor below
    }
  }
  const node = context.createScriptProcessor(4096, 1, 1);
  node.onaudioprocess = (event) => {
    send(new Float32Array(event.inputBuffer.getChannelData(0)));
    event.outputBuffer.getChannelData(0).fill(0);
  };
  source.connect(node);
  node.connect(context.destination);
  $("live-section").dataset.capture = "script-processor";
  return node;
}

function renderLive(message, where = "") {
  $("live-top").textContent = message.top;
  const heard = `${message.model} · ${message.t.toFixed(1)} s of audio heard`;
  $("live-time").textContent = where ? `${heard} · ${where}` : heard;
  const labels = Object.keys(message.probabilities);
  $("live-bars").replaceChildren(barList(labels, message.probabilities, message.top));
}

function setLiveUi(on) {
  const button = $("live-button");
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? "Stop live" : "Live";
  $("record-button").disabled = on;
}

function connectServer(session, model) {
  const socket = new WebSocket(socketUrl(model));
  socket.binaryType = "arraybuffer";
  let opened = false;
  socket.addEventListener("open", async () => {
    opened = true;
    socket.send(JSON.stringify({ sample_rate: Math.round(session.context.sampleRate) }));
    const source = session.context.createMediaStreamSource(session.stream);
    session.node = await captureNode(session.context, source, (samples) => {
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(samples.buffer);
      }
    });
  });
  socket.addEventListener("message", (event) => {
    try {
      renderLive(JSON.parse(event.data));
    } catch {
      // ignore a malformed frame; the next one replaces it
    }
  });
  socket.addEventListener("close", (event) => {
    if (!session.stopping) {
      if (!opened) {
        showMessage("Cannot reach the server for live mode. Check your connection and try again.");
      } else if (event.code !== 1000) {
        const reason = event.reason || `connection closed (code ${event.code})`;
        showMessage(`Live mode stopped: ${reason}.`);
      }
    }
    stopLive();
  });
  return {
    close() {
      if (socket.readyState <= WebSocket.OPEN) {
        socket.close(1000, "client stopped");
      }
    },
  };
}

function onDeviceMessage(session, model, message) {
  if (message.type === "result") {
    renderLive({ ...message, model }, `${message.ms.toFixed(1)} ms on this device`);
  } else if (message.type === "silence") {
    const heard = `${message.t.toFixed(1)} s of audio heard`;
    $("live-time").textContent = `${model} · ${heard} · silence, not classified`;
  } else if (message.type === "error") {
    failOnDevice(session, `Live mode on this device stopped: ${message.message}`);
  }
}

async function attachWorker(session, worker) {
  if (session.stopping) {
    return;
  }
  try {
    const source = session.context.createMediaStreamSource(session.stream);
    session.node = await captureNode(session.context, source, (samples) => {
      worker.postMessage({ type: "audio", samples }, [samples.buffer]);
    });
  } catch (error) {
    const rate = session.context.sampleRate;
    failOnDevice(
      session,
      `This browser cannot capture the microphone at the model's ${rate} Hz for ` +
        `on-device live mode (${error.message || error}).`,
    );
  }
}

function connectDevice(session, model, device) {
  const worker = new Worker("/static/ondevice-worker.js", { type: "module" });
  worker.addEventListener("message", (event) => {
    if (event.data.type === "ready") {
      attachWorker(session, worker);
    } else {
      onDeviceMessage(session, model, event.data);
    }
  });
  worker.addEventListener("error", (event) => {
    event.preventDefault();
    const why = event.message || "its worker failed to start";
    failOnDevice(session, `Live mode on this device stopped: ${why}.`);
  });
  const bytes = device.bytes.slice(0);
  worker.postMessage({ type: "start", bytes, card: device.card }, [bytes]);
  return {
    close() {
      worker.terminate();
    },
  };
}

function failOnDevice(session, text) {
  if (session.stopping) {
    return;
  }
  stopLive();
  session.onFailure(text);
}

/** An audio context for live mode: at the model's rate on this device (the browser
 * resamples the microphone), at the device's own rate for the server. */
function liveContext(device) {
  const AudioCtx = window.AudioContext || window.webkitAudioContext;
  return device ? new AudioCtx({ sampleRate: device.card.sample_rate }) : new AudioCtx();
}

/**
 * Run live mode with `model`: on the server over WS /v1/stream, or, given `device` (a
 * model from ondevice.js `load`), in a Worker in the page, where no audio leaves the
 * browser; `onFailure(text)` is then told when it can't run (the caller offers the server).
 */
export async function startLive(model, note = "", { device = null, onFailure = showMessage } = {}) {
  clearMessage();
  if (!model) {
    showMessage("No model is loaded on this server, so live mode has nothing to run.");
    return;
  }
  const stream = await microphoneOrExplain();
  if (!stream) {
    return;
  }
  const context = liveContext(device);
  context.resume().catch(() => {});
  const session = { stream, context, node: null, link: null, stopping: false, onFailure };
  live = session;
  $("live-section").hidden = false;
  $("live-section").dataset.where = device ? "device" : "server";
  $("live-top").textContent = "listening…";
  const where = device ? "on this device" : "";
  $("live-time").textContent = [model, note, where].filter(Boolean).join(" · ");
  $("live-bars").replaceChildren();
  setLiveUi(true);
  session.meter = startMeter(stream);
  session.link = device ? connectDevice(session, model, device) : connectServer(session, model);
}

/** Stop streaming and release the microphone. */
export function stopLive() {
  const session = live;
  if (!session) {
    return;
  }
  session.stopping = true;
  live = null;
  if (session.node) {
    session.node.disconnect();
  }
  session.link.close();
  session.stream.getTracks().forEach((t) => t.stop());
  session.context.close().catch(() => {});
  session.meter.stop();
  setLiveUi(false);
}

/** Whether live mode is running. */
export function isLive() {
  return live !== null;
}
