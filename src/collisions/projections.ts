/**
 * The near index's random-hyperplane projections on WASM SIMD (f32x4, simd/projections.wat): the
 * kernel normalises the vector, computes its projections and the per-table codes in one call,
 * several times faster than the float64 JS loop. Each index gets its own small instance whose
 * memory holds its hyperplanes and buffers; `v`, `q`, `out` and `codes` are views on it, so
 * vectors go in and codes come out without allocation.
 *
 * The float32 sums can differ from the float64 reference in the last bits, so a projection closer
 * to zero than `margins[j]` may have another sign; the kernel counts those and the caller
 * recomputes them in float64 (about one vector in a hundred needs it), so the sign bits equal the
 * reference's.
 */
import { PROJECTIONS_WASM_BASE64 } from './simd/projections-wasm';

// The few WebAssembly types used here (the project's TypeScript lib has no DOM/WebAssembly types).
type WasmModule = object;
interface WasmExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  project: (planes: number, q: number, out: number, nproj: number, dim: number) => void;
  signature: (
    planes: number,
    v: number,
    q: number,
    out: number,
    margins: number,
    codes: number,
    nproj: number,
    dim: number,
    tables: number,
    bits: number,
  ) => number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (mod: WasmModule) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: WasmModule | null | undefined;

/** The compiled module, or null where this runtime has no WASM SIMD (the JS path is used then). */
function wasmModule(): WasmModule | null {
  if (compiled === undefined) {
    try {
      compiled = wasm ? new wasm.Module(Buffer.from(PROJECTIONS_WASM_BASE64, 'base64')) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

const align = (n: number, a: number) => Math.ceil(n / a) * a;

export class SimdProjector {
  /** Input vector for signature(). */
  readonly v: Float32Array;
  /** The normalised vector: written by signature(), or by the caller before project(). */
  readonly q: Float32Array;
  /** project() and signature() write planes·q here. */
  readonly out: Float32Array;
  /** signature() writes the table codes here (bit b of table t = out[t·bits + b] ≥ 0). */
  readonly codes: Int32Array;
  /** |out[j]| ≤ margins[j]: the sign of projection j is not certain (recompute it in float64). */
  readonly margins: Float64Array;
  private readonly runProject: () => void;
  private readonly runSignature: () => number;

  private constructor(api: WasmApi, mod: WasmModule, planes: Float32Array, nproj: number, dim: number, tables: number, bits: number) {
    const exp = new api.Instance(mod).exports as WasmExports;
    const vOff = align(planes.byteLength, 16),
      qOff = align(vOff + dim * 4, 16),
      outOff = align(qOff + dim * 4, 16),
      mOff = align(outOff + nproj * 4, 16),
      cOff = align(mOff + nproj * 8, 16);
    const need = cOff + tables * 4;
    const have = exp.memory.buffer.byteLength;
    if (need > have) exp.memory.grow(Math.ceil((need - have) / 65536));
    const buf = exp.memory.buffer;
    new Float32Array(buf, 0, planes.length).set(planes);
    this.v = new Float32Array(buf, vOff, dim);
    this.q = new Float32Array(buf, qOff, dim);
    this.out = new Float32Array(buf, outOff, nproj);
    this.margins = new Float64Array(buf, mOff, nproj);
    this.codes = new Int32Array(buf, cOff, tables);
    const { project, signature } = exp;
    this.runProject = () => project(0, qOff, outOff, nproj, dim);
    this.runSignature = () => signature(0, vOff, qOff, outOff, mOff, cOff, nproj, dim, tables, bits);
    // |float32 result − exact| ≤ γ·Σ|a_i q_i| ≤ γ·‖a_j‖·‖q‖ with γ ≈ (d + 8)·2⁻²⁴ for the longest chain
    // of roundings; the float64 reference is off by (d + 1)·2⁻⁵³ at most. Doubled, ‖q‖ ≤ 1.001 for
    // a normalised float32 vector, plus a tiny absolute term for subnormal products.
    const gamma = (dim + 8) * 2 ** -24 + (dim + 1) * 2 ** -53;
    for (let j = 0; j < nproj; j++) {
      let s = 0;
      for (let i = 0, o = j * dim; i < dim; i++, o++) s += planes[o] * planes[o];
      this.margins[j] = 2 * gamma * Math.sqrt(s) * 1.001 + 1e-30;
    }
  }

  /**
   * A projector for these hyperplanes (nproj rows of dim; signature() reads them as `tables`
   * tables of `bits` consecutive rows), or null without WASM SIMD.
   */
  static create(planes: Float32Array, nproj: number, dim: number, tables = 1, bits = nproj): SimdProjector | null {
    const mod = wasmModule();
    return mod && wasm ? new SimdProjector(wasm, mod, planes, nproj, dim, tables, bits) : null;
  }

  /** out = planes · q. */
  project(): void {
    this.runProject();
  }

  /** q = v/‖v‖, out = planes·q, codes; -1 for a zero vector, else how many signs are uncertain. */
  signature(): number {
    return this.runSignature();
  }
}
