/**
 * The near index's random-hyperplane projections on WASM SIMD (f32x4, simd/projections.wat): about
 * five times faster than the float64 JS loop. Each index gets its own small instance whose memory
 * holds its hyperplanes, the query vector and the float32 results; `q` and `out` are views on it,
 * so the caller normalises straight into `q` and reads `out` without copies.
 *
 * The float32 sums can differ from the float64 reference in the last bits, so a projection closer
 * to zero than `margin(j)` may have another sign; the caller recomputes those in float64 (about one
 * vector in a hundred needs one such dot product) and the sign bits equal the reference's.
 */
import { PROJECTIONS_WASM_BASE64 } from './simd/projections-wasm';

// The few WebAssembly types used here (the project's TypeScript lib has no DOM/WebAssembly types).
type WasmModule = object;
interface WasmExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  project: (planes: number, q: number, out: number, nproj: number, dim: number) => void;
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

export class SimdProjector {
  /** The query vector (write it here before project()). */
  readonly q: Float32Array;
  /** project() writes planes·q here. */
  readonly out: Float32Array;
  private readonly margins: Float64Array;
  private readonly run: () => void;

  private constructor(api: WasmApi, mod: WasmModule, planes: Float32Array, nproj: number, dim: number) {
    const exp = new api.Instance(mod).exports as WasmExports;
    const planesBytes = planes.byteLength,
      qOff = planesBytes,
      outOff = qOff + ((dim * 4 + 15) & ~15);
    const need = outOff + nproj * 4;
    const have = exp.memory.buffer.byteLength;
    if (need > have) exp.memory.grow(Math.ceil((need - have) / 65536));
    const buf = exp.memory.buffer;
    new Float32Array(buf, 0, planes.length).set(planes);
    this.q = new Float32Array(buf, qOff, dim);
    this.out = new Float32Array(buf, outOff, nproj);
    const project = exp.project;
    this.run = () => project(0, qOff, outOff, nproj, dim);
    // |float32 result − exact| ≤ γ·Σ|a_i q_i| ≤ γ·‖a_j‖·‖q‖ with γ ≈ (d + 8)·2⁻²⁴ for the longest chain
    // of roundings; the float64 reference is off by (d + 1)·2⁻⁵³ at most. Doubled, ‖q‖ ≤ 1.001 for
    // a normalised float32 vector, plus a tiny absolute term for subnormal products.
    const gamma = (dim + 8) * 2 ** -24 + (dim + 1) * 2 ** -53;
    this.margins = new Float64Array(nproj);
    for (let j = 0; j < nproj; j++) {
      let s = 0;
      for (let i = 0, o = j * dim; i < dim; i++, o++) s += planes[o] * planes[o];
      this.margins[j] = 2 * gamma * Math.sqrt(s) * 1.001 + 1e-30;
    }
  }

  /** A projector for these hyperplanes (nproj rows of dim), or null without WASM SIMD. */
  static create(planes: Float32Array, nproj: number, dim: number): SimdProjector | null {
    const mod = wasmModule();
    return mod && wasm ? new SimdProjector(wasm, mod, planes, nproj, dim) : null;
  }

  project(): void {
    this.run();
  }

  /** Below this |out[j]| the sign of projection j is not certain (recompute it in float64). */
  margin(j: number): number {
    return this.margins[j];
  }
}
