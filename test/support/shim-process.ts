/**
 * Starts test/support/chdb-http-server.ts (the ClickHouse-HTTP stand-in for tests and benchmarks)
 * as ONE child process (`node --import tsx`, not the tsx wrapper, which would fork a second
 * process and make a SIGKILL hit only the wrapper).
 */
import { spawn, ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const SHIM = join(__dirname, 'chdb-http-server.ts');
const ROOT = join(__dirname, '..', '..');

export interface Shim {
  proc: ChildProcess;
  port: number;
  url: string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** `args`: further options of chdb-http-server.ts (--setting, --config-file, --keeperless, …). */
export function startShim(port: number, path: string, timeoutMs = 60_000, args: string[] = []): Promise<Shim> {
  const proc = spawn(process.execPath, ['--import', 'tsx', SHIM, '--port', String(port), '--path', path, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => fail(new Error(`chdb-http-server did not start within ${timeoutMs} ms: ${err}`)), timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(t);
      proc.kill('SIGKILL');
      reject(e);
    };
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\d+)/.exec(out);
      if (!m) return;
      clearTimeout(t);
      const p = Number(m[1]);
      resolve({
        proc,
        port: p,
        url: `http://127.0.0.1:${p}`,
        exited,
        kill: async (signal = 'SIGTERM') => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
          await exited;
        },
      });
    });
    proc.once('exit', (code, sig) => fail(new Error(`chdb-http-server exited (${code ?? sig}) before listening: ${err}`)));
  });
}
