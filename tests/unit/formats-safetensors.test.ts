/**
 * safetensors reader and writer; float16/bfloat16 conversions against values computed
 * offline with numpy 2.4 (float16: `np.float32(x).astype(np.float16)`, round-to-nearest-even;
 * bfloat16: the integer RNE formula `(b + 0x7fff + ((b >> 16) & 1)) >> 16` on the float32 bits,
 * which is PyTorch's round_to_nearest_even).
 */
import { describe, expect, it } from 'vitest';
import { isLenspressError } from '../../src/core/errors.ts';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, roundToBf16, roundToF16 } from '../../src/core/formats/half.ts';
import { MAX_HEADER_BYTES, parseSafetensors, readSafetensor } from '../../src/core/formats/safetensors.ts';
import { type TensorToWrite, writeSafetensors, writeShardedSafetensors } from '../../src/core/formats/safetensors-writer.ts';
import { mulberry32 } from '../../src/core/model/random.ts';

// float32 inputs (as numpy printed them) and their binary16 / bfloat16 bits from numpy.
const SPECIAL = [0.0, -0.0, 1.0, -2.5, 0.3333333432674408, 3.1415927410125732, 65504.0, 65520.0, 9.99999993922529e-9, 6.0999998822808266e-5,
  5.960000137861243e-8, 2.9800000689306216e-8, 1.0000000150474662e30, -9.99994610111476e-41, 1.00390625, 1.01171875, 0.10000000149011612, 123456.7890625];
const BF16_BITS = [0x0, 0x8000, 0x3f80, 0xc020, 0x3eab, 0x4049, 0x4780, 0x4780, 0x322c, 0x3880, 0x3380, 0x3300, 0x714a, 0x8001, 0x3f80, 0x3f82, 0x3dcd, 0x47f1];
const F16_BITS = [0x0, 0x8000, 0x3c00, 0xc100, 0x3555, 0x4248, 0x7bff, 0x7c00, 0x0, 0x3ff, 0x1, 0x0, 0x7c00, 0x8000, 0x3c04, 0x3c0c, 0x2e66, 0x7c00];

function expectError(fn: () => unknown, ...parts: (string | RegExp)[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isLenspressError(err), `expected a LenspressError, got ${String(err)}`).toBe(true);
  for (const p of parts) expect((err as Error).message).toMatch(p);
}

describe('float16 / bfloat16', () => {
  it('narrow with round-to-nearest-even exactly as numpy / PyTorch (ties, subnormals, overflow)', () => {
    expect(SPECIAL.map(f32ToBf16)).toEqual(BF16_BITS);
    expect(SPECIAL.map(f32ToF16)).toEqual(F16_BITS);
  });

  it('widen exactly: every binary16 and every bfloat16 bit pattern survives a round trip', () => {
    for (let h = 0; h < 65536; h++) {
      const v16 = f16ToF32(h), vb = bf16ToF32(h);
      if (!Number.isNaN(v16)) expect(f32ToF16(v16)).toBe(h);
      if (!Number.isNaN(vb)) expect(f32ToBf16(vb)).toBe(h);
    }
  });

  it('NaN stays NaN', () => {
    expect(Number.isNaN(roundToBf16(NaN))).toBe(true);
    expect(Number.isNaN(roundToF16(NaN))).toBe(true);
  });
});

describe('safetensors round trip', () => {
  const rand = mulberry32(5);
  const random = Float32Array.from({ length: 3 * 37 }, () => (rand() - 0.5) * 10 ** (8 * rand() - 4));
  const special = Float32Array.from(SPECIAL);
  const tensors = (dtype: TensorToWrite['dtype']): TensorToWrite[] => [
    { name: 'a.weight', shape: [3, 37], data: random, dtype },
    { name: 'special', shape: [SPECIAL.length], data: special, dtype },
    { name: 'scalar', shape: [], data: Float32Array.of(2.5), dtype },
    { name: 'empty', shape: [0, 4], data: new Float32Array(0), dtype },
  ];

  it('F32: bit-exact, aligned data, views without copying', () => {
    const bytes = writeSafetensors(tensors('F32'), { format: 'pt' });
    const f = parseSafetensors(bytes, 'x.safetensors');
    expect(f.metadata).toEqual({ format: 'pt' });
    const headerLen = new DataView(bytes.buffer).getUint32(0, true);
    expect((8 + headerLen) % 8).toBe(0);
    const a = readSafetensor(f, 'a.weight');
    expect(a).toEqual(random);
    expect(a.buffer).toBe(bytes.buffer); // a view into the file
    expect(Array.from(readSafetensor(f, 'special'), (v) => Object.is(v, -0) ? '-0' : v)).toEqual(SPECIAL.map((v) => Object.is(v, -0) ? '-0' : Math.fround(v)));
    expect(f.tensors.get('scalar')!.shape).toEqual([]);
    expect(readSafetensor(f, 'scalar')).toEqual(Float32Array.of(2.5));
    expect(readSafetensor(f, 'empty').length).toBe(0);
  });

  it('BF16: each value is the round-to-nearest-even bfloat16 of the float32 value', () => {
    const f = parseSafetensors(writeSafetensors(tensors('BF16')), 'x.safetensors');
    expect(Array.from(readSafetensor(f, 'special'), (v) => f32ToBf16(v))).toEqual(BF16_BITS);
    expect(readSafetensor(f, 'a.weight')).toEqual(random.map(roundToBf16));
    expect(f.tensors.get('a.weight')!.end - f.tensors.get('a.weight')!.begin).toBe(3 * 37 * 2);
  });

  it('F16: each value is the round-to-nearest-even binary16 of the float32 value', () => {
    const f = parseSafetensors(writeSafetensors(tensors('F16')), 'x.safetensors');
    expect(Array.from(readSafetensor(f, 'special'), (v) => f32ToF16(v))).toEqual(F16_BITS);
    expect(readSafetensor(f, 'a.weight')).toEqual(random.map(roundToF16));
  });

  it('sharding: every shard non-empty, the index maps each tensor to the file that holds it', () => {
    const ts = Array.from({ length: 7 }, (_, i): TensorToWrite => ({ name: `t${i}`, shape: [i === 0 ? 100 : 3], data: new Float32Array(i === 0 ? 100 : 3).fill(i), dtype: 'F32' }));
    const { files, index } = writeShardedSafetensors(ts, 3);
    expect([...files.keys()]).toEqual(['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors']);
    for (const [name, bytes] of files) {
      const f = parseSafetensors(bytes, name);
      expect(f.tensors.size).toBeGreaterThan(0);
      for (const t of f.tensors.keys()) expect(index.weight_map[t]).toBe(name);
    }
    expect(Object.keys(index.weight_map).sort()).toEqual(ts.map((t) => t.name).sort());
    expect(index.metadata.total_size).toBe((100 + 6 * 3) * 4);
  });
});

describe('safetensors: bad input is refused before allocating, naming the file and the tensor', () => {
  const good = writeSafetensors([
    { name: 'first', shape: [4], data: Float32Array.of(1, 2, 3, 4), dtype: 'F32' },
    { name: 'last', shape: [2, 2], data: Float32Array.of(5, 6, 7, 8), dtype: 'F32' },
  ]);
  /** A file with this header JSON (unpadded) and `data` bytes. */
  const withHeader = (header: string, data = 0, lenField?: number) => {
    const json = new TextEncoder().encode(header);
    const out = new Uint8Array(8 + json.length + data);
    new DataView(out.buffer).setUint32(0, lenField ?? json.length, true);
    out.set(json, 8);
    return out;
  };

  it('truncated data: names the tensor that runs past the end', () => {
    expectError(() => parseSafetensors(good.subarray(0, good.length - 3), 'cut.safetensors'), 'cut.safetensors', 'tensor last', /truncated/);
  });

  it('too short for the length field', () => {
    expectError(() => parseSafetensors(good.subarray(0, 5), 'tiny.safetensors'), 'tiny.safetensors', /8-byte header length/);
  });

  it('header length past the end of the file', () => {
    const bad = good.slice();
    new DataView(bad.buffer).setUint32(0, 1e6, true);
    expectError(() => parseSafetensors(bad, 'long.safetensors'), 'long.safetensors', /header length field says 1000000 bytes/);
    new DataView(bad.buffer).setUint32(4, 7, true); // ≥ 2^32
    expectError(() => parseSafetensors(bad, 'long.safetensors'), 'long.safetensors', /only \d+ follow/);
  });

  it('header length above the 100 MB limit of the format', () => {
    const big = new Uint8Array(MAX_HEADER_BYTES + 16);
    new DataView(big.buffer).setUint32(0, MAX_HEADER_BYTES + 1, true);
    expectError(() => parseSafetensors(big, 'huge.safetensors'), 'huge.safetensors', /exceeds the 100000000-byte limit/);
  });

  it('garbage, non-object and non-UTF-8 headers', () => {
    expectError(() => parseSafetensors(withHeader('{"a": {"dtype": "F32",'), 'garbage.safetensors'), 'garbage.safetensors', /not valid UTF-8 JSON/);
    expectError(() => parseSafetensors(withHeader('[1, 2]'), 'array.safetensors'), 'array.safetensors', /not an object/);
    const notUtf8 = withHeader('{"x": 1}');
    notUtf8[9] = 0xff;
    expectError(() => parseSafetensors(notUtf8, 'bytes.safetensors'), 'bytes.safetensors', /not valid UTF-8 JSON/);
  });

  it('unknown dtype, bad shape, offsets inconsistent with dtype × shape', () => {
    expectError(() => parseSafetensors(withHeader('{"w": {"dtype": "F7", "shape": [2], "data_offsets": [0, 8]}}', 8), 'd.safetensors'), 'd.safetensors', 'tensor w', /unknown dtype "F7"/);
    expectError(() => parseSafetensors(withHeader('{"w": {"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 8]}}', 8), 's.safetensors'), 's.safetensors', 'tensor w', /shape/);
    expectError(() => parseSafetensors(withHeader('{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}', 16), 'o.safetensors'), 'o.safetensors', 'tensor w', /span 8 bytes, but shape \[3\] of F32 needs 12/);
    expectError(() => parseSafetensors(withHeader('{"w": {"dtype": "BF16", "shape": [4], "data_offsets": [8, 4]}}', 8), 'r.safetensors'), 'r.safetensors', 'tensor w', /begin ≤ end/);
    expectError(() => parseSafetensors(withHeader('{"w": {"dtype": "F32", "shape": [1000000, 1000000, 1000000], "data_offsets": [0, 8]}}', 8), 'n.safetensors'), 'n.safetensors', 'tensor w', /needs more bytes/);
  });

  it('gaps, overlaps and trailing bytes', () => {
    const gap = '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}';
    expectError(() => parseSafetensors(withHeader(gap, 12), 'gap.safetensors'), 'gap.safetensors', 'tensor b', /contiguous/);
    const tail = '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}';
    expectError(() => parseSafetensors(withHeader(tail, 12), 'tail.safetensors'), 'tail.safetensors', /8 unexplained bytes/);
  });

  it('a valid but non-float tensor is refused only when read as a weight', () => {
    const f = parseSafetensors(withHeader('{"ids": {"dtype": "I64", "shape": [2], "data_offsets": [0, 16]}}', 16), 'i.safetensors');
    expectError(() => readSafetensor(f, 'ids'), 'i.safetensors', 'tensor ids', /dtype I64/, /F32, F16, BF16/);
    expectError(() => readSafetensor(f, 'nope'), 'i.safetensors', 'nope');
  });
});
