// AudioWorklet for live mode: collects mono float32 samples into ~0.1 s chunks and posts
// each chunk to the page, which sends it over the WebSocket as little-endian float32.

class PcmCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    // sampleRate is a global of the worklet scope
    this.size = Math.max(128, Math.round(sampleRate / 10));
    this.buffer = new Float32Array(this.size);
    this.filled = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (input && input.length) {
      const channel = input[0];
      let offset = 0;
      while (offset < channel.length) {
        const n = Math.min(channel.length - offset, this.size - this.filled);
        this.buffer.set(channel.subarray(offset, offset + n), this.filled);
        this.filled += n;
        offset += n;
        if (this.filled === this.size) {
          this.port.postMessage(this.buffer, [this.buffer.buffer]);
          this.buffer = new Float32Array(this.size);
          this.filled = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor("pcm-capture", PcmCapture);
