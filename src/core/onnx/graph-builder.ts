/**
 * Builds an ONNX ModelProto in memory. Field numbers are those of onnx/onnx.proto
 * (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto).
 * Opset 17: ReduceMean still takes `axes` as an attribute there (opset 18 made it an input).
 */
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

function tensorProto(name: string, data: TensorData, dims: readonly number[], elemType = elemTypeOf(data)): ProtoWriter {
  const t = new ProtoWriter();
  t.packedInts(1, dims);
  t.int(2, elemType);
  t.string(8, name);
  // raw_data holds little-endian bytes; every platform ONNX Runtime ships on is little-endian.
  t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return t;
}

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
    this.graph.message(5, tensorProto(name, data, dims, elemType));
    return name;
  }

  constFloat(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.initializer('const', Float32Array.from(values), dims);
  }

  constInt64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.initializer('const', BigInt64Array.from(values.map(BigInt)), dims);
  }

  /** Adds a node; returns its output names. `outputNames` fixes them (e.g. hook names). */
  node(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, outputs: number | readonly string[] = 1): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType)) : [...outputs];
    for (const o of outs) this.names.add(o);
    const n = new ProtoWriter();
    for (const i of inputs) n.string(1, i);
    for (const o of outs) n.string(2, o);
    n.string(3, this.fresh(`${opType}_node`));
    n.string(4, opType);
    for (const [k, v] of Object.entries(attrs)) n.message(5, attribute(k, v));
    this.graph.message(1, n);
    return outs;
  }

  /** Single-output node. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    return this.node(opType, inputs, attrs)[0];
  }

  toBytes(producerVersion = '0'): Uint8Array {
    this.graph.string(2, this.name);
    for (const i of this.inputs) this.graph.message(11, i);
    for (const o of this.outputs) this.graph.message(12, o);
    const opset = new ProtoWriter().string(1, '').int(2, OPSET);
    const model = new ProtoWriter().int(1, IR_VERSION).string(2, 'lenspress').string(3, producerVersion).message(7, this.graph).message(8, opset);
    return model.finish();
  }
}
