// Copy the parts of onnxruntime-web the browser app loads into a folder (by default
// ../src/audioclf/service/web/vendor/): the WASM-only ES module build, the threaded
// WebAssembly runtime it imports (which also runs on one thread when the page is not
// cross-origin isolated) and the licence. Run after `npm ci`; the Makefile and the
// Dockerfile both call it, so the list of files lives here only.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dest = process.argv[2] || join(here, "..", "src", "audioclf", "service", "web", "vendor");
const dist = join(here, "node_modules", "onnxruntime-web", "dist");
const FILES = ["ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"];

const { version } = JSON.parse(
  readFileSync(join(here, "node_modules", "onnxruntime-web", "package.json"), "utf8"),
);
rmSync(dest, { recursive: true, force: true });
mkdirSync(dest, { recursive: true });
for (const name of FILES) {
  copyFileSync(join(dist, name), join(dest, name));
}
copyFileSync(join(here, "LICENSE-onnxruntime-web.txt"), join(dest, "LICENSE-onnxruntime-web.txt"));
writeFileSync(join(dest, "VERSION"), `onnxruntime-web ${version}\n`);
console.log(`onnxruntime-web ${version}: ${FILES.length} files copied to ${dest}`);
