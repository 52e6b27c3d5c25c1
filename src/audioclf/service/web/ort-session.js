// ONNX Runtime Web for on-device mode, shared by the page (ondevice.js) and the live
// worker (ondevice-worker.js): no DOM here. The runtime is vendored under /static/vendor/
// by `make` (web/vendor.mjs); nothing is fetched from a CDN.

const VENDOR = "/static/vendor/";
const RUNTIME = `${VENDOR}ort.wasm.min.mjs`;
const MAX_THREADS = 4;

let runtime = null;

/** A failure of on-device mode, with a message for the user. */
export class OnDeviceError extends Error {}

/** Threads for the WASM runtime: up to 4 when the page is cross-origin isolated (shared
 * memory available), else 1. */
export function threadCount() {
  const cores = (globalThis.navigator && navigator.hardwareConcurrency) || 1;
  return globalThis.crossOriginIsolated ? Math.min(MAX_THREADS, cores) : 1;
}

/** Why this browser cannot run a model in the page, or null when it can. */
export function wasmProblem() {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
    return "This browser cannot run WebAssembly, which on-device mode needs.";
  }
  return null;
}

async function importRuntime(numThreads) {
  let ort;
  try {
    ort = await import(RUNTIME);
  } catch (error) {
    throw new OnDeviceError(
      `The on-device runtime could not be loaded from ${RUNTIME} (${error.message || error}). ` +
        "The server may have been installed without it: `make` vendors it.",
    );
  }
  ort.env.wasm.wasmPaths = VENDOR;
  ort.env.wasm.numThreads = numThreads;
  ort.env.wasm.proxy = false;
  return ort;
}

/** The ONNX Runtime module, configured once with `numThreads` (later values are ignored:
 * the WebAssembly instance keeps the thread pool it started with). */
export function loadRuntime(numThreads = threadCount()) {
  const problem = wasmProblem();
  if (problem) {
    return Promise.reject(new OnDeviceError(problem));
  }
  if (!runtime) {
    runtime = importRuntime(numThreads).catch((error) => {
      runtime = null;
      throw error;
    });
  }
  return runtime;
}

/** An inference session of the graph in `bytes` on the WASM backend. */
export async function createSession(bytes, numThreads) {
  const ort = await loadRuntime(numThreads);
  try {
    const session = await ort.InferenceSession.create(new Uint8Array(bytes), {
      executionProviders: ["wasm"],
      graphOptimizationLevel: "all",
    });
    return { ort, session };
  } catch (error) {
    throw new OnDeviceError(
      `This browser could not start the model: ${error.message || error}. ` +
        "WebAssembly may be blocked or out of memory here.",
    );
  }
}

/** Run the graph on mono `samples` at the card's rate: class probabilities in the card's
 * label order (a Float32Array) and the milliseconds the run took. */
export async function runGraph({ ort, session }, card, samples) {
  const input = new ort.Tensor("float32", samples, [1, samples.length]);
  const started = performance.now();
  const outputs = await session.run({ [card.input]: input });
  const ms = performance.now() - started;
  const output = outputs[card.output];
  const probabilities = Float32Array.from(output.data);
  input.dispose();
  output.dispose();
  if (probabilities.length !== card.labels.length) {
    throw new OnDeviceError(
      `The model gave ${probabilities.length} probabilities for ${card.labels.length} labels; ` +
        "its web export does not match its card.",
    );
  }
  return { probabilities, ms };
}

/** `{label: p}` for a run's output and the label with the highest probability. */
export function labelled(card, probabilities) {
  const byLabel = {};
  let top = 0;
  card.labels.forEach((label, i) => {
    byLabel[label] = probabilities[i];
    if (probabilities[i] > probabilities[top]) {
      top = i;
    }
  });
  return { label: card.labels[top], probabilities: byLabel };
}
