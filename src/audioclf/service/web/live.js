// Live mode: microphone → AudioWorklet (or ScriptProcessor) → float32 frames over the
// WebSocket /v1/stream → rolling predictions shown as bars.

import { barList } from "./charts.js";
import { $, clearMessage, showMessage } from "./dom.js";
import { openMicrophone, startMeter } from "./mic.js";

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

function renderLive(message) {
  $("live-top").textContent = message.top;
  $("live-time").textContent = `${message.model} · ${message.t.toFixed(1)} s of audio heard`;
  const labels = Object.keys(message.probabilities);
  $("live-bars").replaceChildren(barList(labels, message.probabilities, message.top));
}

function setLiveUi(on) {
  const button = $("live-button");
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? "Stop live" : "Live";
  $("record-button").disabled = on;
}

/** Stream the microphone to `model` and show its rolling predictions. */
export async function startLive(model, note = "") {
  clearMessage();
  if (!model) {
    showMessage("No model is loaded on this server, so live mode has nothing to run.");
    return;
  }
  let stream;
  try {
    stream = await openMicrophone();
  } catch (error) {
    showMessage(error.friendly || String(error));
    return;
  }
  const AudioCtx = window.AudioContext || window.webkitAudioContext;
  const context = new AudioCtx();
  context.resume().catch(() => {});
  const socket = new WebSocket(socketUrl(model));
  socket.binaryType = "arraybuffer";
  const session = { stream, context, socket, node: null, opened: false, stopping: false };
  live = session;
  $("live-section").hidden = false;
  $("live-top").textContent = "listening…";
  $("live-time").textContent = note ? `${model} (${note})` : model;
  $("live-bars").replaceChildren();
  setLiveUi(true);
  session.meter = startMeter(stream);

  socket.addEventListener("open", async () => {
    session.opened = true;
    socket.send(JSON.stringify({ sample_rate: Math.round(context.sampleRate) }));
    const source = context.createMediaStreamSource(stream);
    session.node = await captureNode(context, source, (samples) => {
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
      if (!session.opened) {
        showMessage("Cannot reach the server for live mode. Check your connection and try again.");
      } else if (event.code !== 1000) {
        const reason = event.reason || `connection closed (code ${event.code})`;
        showMessage(`Live mode stopped: ${reason}.`);
      }
    }
    stopLive();
  });
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
  if (session.socket.readyState <= WebSocket.OPEN) {
    session.socket.close(1000, "client stopped");
  }
  session.stream.getTracks().forEach((t) => t.stop());
  session.context.close().catch(() => {});
  session.meter.stop();
  setLiveUi(false);
}

/** Whether live mode is running. */
export function isLive() {
  return live !== null;
}
