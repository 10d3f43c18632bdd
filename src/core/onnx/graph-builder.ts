/**
 * Builds an ONNX ModelProto in memory. Field numbers are those of onnx/onnx.proto
 * (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto).
 * Opset 17: ReduceMean still takes `axes` as an attribute there (opset 18 made it an input).
 * Nodes of another domain (com.microsoft contrib ops such as MatMulNBits) add an opset
 * import for that domain, version 1.
 *
 * Protobufs cannot exceed 2 GiB, so `toModel` can move initializers to ONNX external data
 * (onnx/onnx.proto TensorProto.data_location = EXTERNAL, external_data {location, offset,
 * length}; docs/ExternalData.md): one file per tensor, offset 0, which hands each weight's
 * bytes to the runtime without concatenating them.
 */
import { LenspressError } from '../errors.ts';
import { ProtoWriter } from './protobuf.ts';

export const OPSET = 17;
const IR_VERSION = 8;

export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10 } as const;
export type ElemType = (typeof DataType)[keyof typeof DataType];

export type Attr =
  | { i: number }
  | { f: number }
  | { ints: readonly number[] }
  | { s: string };

export type Dim = number | string;

type TensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

function elemTypeOf(data: TensorData): ElemType {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof BigInt64Array) return DataType.INT64;
  if (data instanceof Int32Array) return DataType.INT32;
  return DataType.UINT8;
}

const bytesOf = (data: TensorData) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

function tensorProto(name: string, data: TensorData, dims: readonly number[], elemType: ElemType, externalPath?: string): ProtoWriter {
  const t = new ProtoWriter();
  t.packedInts(1, dims);
  t.int(2, elemType);
  t.string(8, name);
  if (externalPath !== undefined) {
    const entry = (k: string, v: string) => new ProtoWriter().string(1, k).string(2, v);
    t.message(13, entry('location', externalPath)).message(13, entry('offset', '0')).message(13, entry('length', String(data.byteLength)));
    t.int(14, 1); // data_location EXTERNAL
  } else {
    // raw_data holds little-endian bytes; every platform ONNX Runtime ships on is little-endian.
    t.bytes(9, bytesOf(data));
  }
  return t;
}

/** An external data file: `path` as named in the graph (relative, flat), `data` its bytes. */
export interface ExternalDataFile {
  path: string;
  data: Uint8Array;
}

/** A serialised model: the graph protobuf, plus the external data files it refers to (often none). */
export interface OnnxModel {
  bytes: Uint8Array;
  externalData: ExternalDataFile[];
}

export interface ExternalDataOptions {
  /** Initializer bytes above which initializers go to external data; default 1.5 GiB (protobufs stop at 2 GiB). */
  threshold?: number;
  /** Initializers smaller than this stay in the graph even then; default 1 KiB. */
  minBytes?: number;
}

export const EXTERNAL_DATA_THRESHOLD = 1.5 * 2 ** 30;
const PROTOBUF_LIMIT = 2 ** 31 - 1;

function valueInfo(name: string, elemType: ElemType, dims: readonly Dim[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, elemType).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, name).message(2, type);
}

function attribute(name: string, a: Attr): ProtoWriter {
  const p = new ProtoWriter().string(1, name);
  if ('i' in a) p.int(3, a.i).int(20, 2);
  else if ('f' in a) p.float(2, a.f).int(20, 1);
  else if ('ints' in a) p.packedInts(8, a.ints).int(20, 7);
  else p.bytes(4, new TextEncoder().encode(a.s)).int(20, 3);
  return p;
}

export class GraphBuilder {
  private readonly graph = new ProtoWriter();
  private readonly inputs: ProtoWriter[] = [];
  private readonly outputs: ProtoWriter[] = [];
  private readonly names = new Set<string>();
  private readonly inits: { name: string; data: TensorData; dims: readonly number[]; elemType: ElemType }[] = [];
  private readonly domains = new Set<string>();
  /** Nodes are kept until toModel so that `alias` can still rename their outputs. */
  private readonly nodes: { inputs: readonly string[]; outputs: readonly string[]; name: string; opType: string; attrs: Record<string, Attr>; domain: string }[] = [];
  private readonly nodeOutputs = new Set<string>();
  private readonly aliases = new Map<string, string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh internal tensor name; `hint` makes graphs readable in Netron. */
  fresh(hint: string): string {
    let n: string;
    do n = `${hint}/${this.counter++}`;
    while (this.names.has(n));
    this.names.add(n);
    return n;
  }

  input(name: string, elemType: ElemType, dims: readonly Dim[]): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: ElemType, dims: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  initializer(hint: string, data: TensorData, dims: readonly number[], elemType?: ElemType): string {
    const name = this.fresh(hint);
    this.inits.push({ name, data, dims, elemType: elemType ?? elemTypeOf(data) });
    return name;
  }

  constFloat(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.initializer('const', Float32Array.from(values), dims);
  }

  constInt64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.initializer('const', BigInt64Array.from(values.map(BigInt)), dims);
  }

  /** Adds a node; returns its output names. `outputNames` fixes them (e.g. hook names); `domain` e.g. 'com.microsoft'. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, outputs: number | readonly string[] = 1, domain = ''): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType)) : [...outputs];
    for (const o of outs) {
      this.names.add(o);
      this.nodeOutputs.add(o);
    }
    if (domain !== '') this.domains.add(domain);
    this.nodes.push({ inputs: [...inputs], outputs: outs, name: this.fresh(`${opType}_node`), opType, attrs, domain });
    return outs;
  }

  /**
   * Gives a node's output a public name (a hook) without an Identity node, which would copy
   * the whole tensor on every run; every use of `value` is renamed when the graph is written.
   * Returns false when that is impossible — `value` is a graph input or an initializer, or
   * already has a public name (one tensor that is two hooks) — and the caller adds an Identity.
   */
  alias(value: string, name: string): boolean {
    if (!this.nodeOutputs.has(value) || this.aliases.has(value) || this.names.has(name)) return false;
    this.aliases.set(value, name);
    this.names.add(name);
    return true;
  }

  private writeNodes(): void {
    const named = (v: string) => this.aliases.get(v) ?? v;
    for (const d of this.nodes) {
      const n = new ProtoWriter();
      for (const i of d.inputs) n.string(1, named(i));
      for (const o of d.outputs) n.string(2, named(o));
      n.string(3, d.name);
      n.string(4, d.opType);
      for (const [k, v] of Object.entries(d.attrs)) n.message(5, attribute(k, v));
      if (d.domain !== '') n.string(7, d.domain);
      this.graph.message(1, n);
    }
    this.nodes.length = 0;
  }

  /** Single-output node. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    return this.node(opType, inputs, attrs)[0];
  }

  /** Total bytes of the initializers so far. */
  get initializerBytes(): number {
    return this.inits.reduce((s, t) => s + t.data.byteLength, 0);
  }

  /** The model as one protobuf, every initializer inside; refused past the 2 GiB protobuf limit (use toModel). */
  toBytes(producerVersion = '0'): Uint8Array {
    if (this.initializerBytes > PROTOBUF_LIMIT - 2 ** 24) {
      throw new LenspressError('model-too-large', `the ${this.name} graph holds ${this.initializerBytes} bytes of weights; an ONNX protobuf cannot exceed 2 GiB: build it with external data (toModel)`);
    }
    return this.toModel({ threshold: Infinity }, producerVersion).bytes;
  }

  /**
   * The model, with initializers as external data files once their total exceeds
   * `ext.threshold` (each of at least `ext.minBytes`; the rest stay inside).
   */
  toModel(ext: ExternalDataOptions = {}, producerVersion = '0'): OnnxModel {
    const threshold = ext.threshold ?? EXTERNAL_DATA_THRESHOLD, minBytes = ext.minBytes ?? 1024;
    const external = this.initializerBytes > threshold;
    this.writeNodes();
    const externalData: ExternalDataFile[] = [];
    for (const t of this.inits) {
      let path: string | undefined;
      if (external && t.data.byteLength >= minBytes) {
        path = `lenspress-${externalData.length}.bin`;
        externalData.push({ path, data: bytesOf(t.data) });
      }
      this.graph.message(5, tensorProto(t.name, t.data, t.dims, t.elemType, path));
    }
    this.inits.length = 0; // written: the graph owns them now (a second toModel has none to add)
    this.graph.string(2, this.name);
    for (const i of this.inputs) this.graph.message(11, i);
    for (const o of this.outputs) this.graph.message(12, o);
    const model = new ProtoWriter().int(1, IR_VERSION).string(2, 'lenspress').string(3, producerVersion).message(7, this.graph);
    model.message(8, new ProtoWriter().string(1, '').int(2, OPSET));
    for (const domain of this.domains) model.message(8, new ProtoWriter().string(1, domain).int(2, 1));
    return { bytes: model.finish(), externalData };
  }
}
