// Preloaded into the CLI by tests/unit/out-of-memory.test.ts (`node --import …`): every
// onnxruntime-node session run first asks V8 for a 1 PiB ArrayBuffer, which no machine grants,
// so the run fails with the RangeError V8 itself raises when an allocation fails — the error a
// model too big for this machine meets, raised where the model runs.
import { createRequire } from 'node:module';

const { InferenceSession } = createRequire(import.meta.url)('onnxruntime-node');
const run = InferenceSession.prototype.run;
InferenceSession.prototype.run = function (...args) {
  void new ArrayBuffer(2 ** 50);
  return run.apply(this, args);
};
