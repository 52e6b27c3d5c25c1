// Recording with MediaRecorder: start/stop, the level meter and the elapsed time.

import { $, clearMessage, showMessage } from "./dom.js";
import { extensionFor, formatElapsed, microphoneOrExplain, pickMimeType, startMeter } from "./mic.js";

let session = null;
let starting = false;

function setRecordingUi(on) {
  const button = $("record-button");
  button.setAttribute("aria-pressed", String(on));
  $("record-label").textContent = on ? "Stop" : "Record";
  $("live-button").disabled = on;
}

async function startRecording(onRecorded) {
  clearMessage();
  if (!window.MediaRecorder) {
    showMessage("This browser cannot record audio (no MediaRecorder). Upload a file instead.");
    return;
  }
  const stream = await microphoneOrExplain();
  if (!stream) {
    return;
  }
  const mimeType = pickMimeType();
  const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
  const chunks = [];
  recorder.addEventListener("dataavailable", (event) => {
    if (event.data && event.data.size) {
      chunks.push(event.data);
    }
  });
  recorder.addEventListener("stop", () => {
    const type = recorder.mimeType || mimeType || "audio/webm";
    const blob = new Blob(chunks, { type });
    chunks.length = 0;
    stream.getTracks().forEach((t) => t.stop());
    if (blob.size === 0) {
      showMessage("The recording is empty: the microphone sent no sound. Try again.");
      return;
    }
    onRecorded(blob, `recording.${extensionFor(type)}`);
  });
  const started = performance.now();
  $("elapsed").textContent = "0:00";
  session = {
    recorder,
    meter: startMeter(stream),
    timer: setInterval(() => {
      $("elapsed").textContent = formatElapsed(performance.now() - started);
    }, 250),
  };
  recorder.start(250);
  setRecordingUi(true);
}

function stopRecording() {
  const current = session;
  session = null;
  clearInterval(current.timer);
  current.meter.stop();
  setRecordingUi(false);
  if (current.recorder.state !== "inactive") {
    current.recorder.stop();
  }
}

/** Start or stop recording; a finished recording is passed to `onRecorded(blob, filename)`. */
export function toggleRecording(onRecorded) {
  if (session) {
    stopRecording();
  } else if (!starting) {
    starting = true;
    startRecording(onRecorded).finally(() => {
      starting = false;
    });
  }
}
