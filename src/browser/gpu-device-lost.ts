/**
 * A lost WebGPU device (a driver reset, the GPU process restarted, `device.destroy()`) leaves
 * ONNX Runtime Web's run waiting for a read-back that never comes: the run neither returns
 * nor throws (tests/e2e/robustness.spec.ts loses the device in the middle of a run). So the
 * Worker races each WebGPU run against the loss of the device ONNX Runtime uses, which it
 * publishes as `env.webgpu.device` once its first WebGPU session exists. After a loss that
 * runtime's WebAssembly instance is suspended in the middle of a call and is not reused: the
 * page re-sends the request to a fresh Worker, on WebAssembly (src/browser/shared-worker.ts).
 */

interface LosableDevice {
  lost: Promise<{ reason?: string; message?: string }>;
}

export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

/** The device being watched, and why it was lost once it is. */
let watched: { device: LosableDevice; lost?: string } | undefined;

const POLL_MS = 50;

/** Settles as `run` does, or rejects with DeviceLostError as soon as the runtime's GPU device is lost. */
export async function unlessDeviceLost<T>(env: { webgpu: unknown }, run: Promise<T>): Promise<T> {
  let settled = false;
  const lost = new Promise<never>((_, reject) => {
    const check = () => {
      if (settled) return;
      const device = (env.webgpu as { device?: unknown }).device;
      if (watched?.device !== device && device && typeof device === 'object' && 'lost' in device) {
        const w: { device: LosableDevice; lost?: string } = { device: device as LosableDevice };
        watched = w;
        void w.device.lost.then((info) => (w.lost = `the WebGPU device was lost (${[info.reason, info.message].filter(Boolean).join(': ') || 'no reason given'})`));
      }
      if (watched?.lost) return reject(new DeviceLostError(watched.lost));
      setTimeout(check, POLL_MS);
    };
    check();
  });
  try {
    return await Promise.race([run, lost]);
  } finally {
    settled = true;
  }
}
