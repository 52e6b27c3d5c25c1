// Recording with MediaRecorder: start/stop, the level meter and the elapsed time.

import { $, clearMessage, showMessage } from "./dom.js";
import { extensionFor, formatElapsed, microphoneOrExplain, pickMimeType, startMeter } from "./mic.js";

/**
 * A recorder driving its own controls. `toggle(onRecorded)` starts recording, or stops it
 * and passes the clip to `onRecorded(blob, filename)`; `setOn(on)` shows the state, `elapsed`
 * and `fill` are the timer and level meter elements; after `maxMs` (0: no limit) it stops
 * by itself. `active` is true from the press that starts it until it stops.
 */
export function clipRecorder({ setOn, elapsed, fill, maxMs = 0 }) {
  let session = null;
  let starting = false;

  async function start(onRecorded) {
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
    elapsed.textContent = "0:00";
    session = {
      recorder,
      meter: startMeter(stream, fill),
      timer: setInterval(() => {
        elapsed.textContent = formatElapsed(performance.now() - started);
      }, 250),
      limit: maxMs > 0 ? setTimeout(stop, maxMs) : 0,
    };
    recorder.start(250);
    setOn(true);
  }

  function stop() {
    const current = session;
    if (!current) {
      return;
    }
    session = null;
    clearInterval(current.timer);
    clearTimeout(current.limit);
    current.meter.stop();
    setOn(false);
    if (current.recorder.state !== "inactive") {
      current.recorder.stop();
    }
  }

  return {
    toggle(onRecorded) {
      if (session) {
        stop();
      } else if (!starting) {
        starting = true;
        start(onRecorded).finally(() => {
          starting = false;
        });
      }
    },
    stop,
    get active() {
      return Boolean(session) || starting;
    },
  };
}

function setRecordingUi(on) {
  const button = $("record-button");
  button.setAttribute("aria-pressed", String(on));
  $("record-label").textContent = on ? "Stop" : "Record";
  $("live-button").disabled = on;
}

let main = null;

/** Start or stop recording; a finished recording is passed to `onRecorded(blob, filename)`. */
export function toggleRecording(onRecorded) {
  if (!main) {
    main = clipRecorder({ setOn: setRecordingUi, elapsed: $("elapsed"), fill: $("level-fill") });
  }
  main.toggle(onRecorded);
}
