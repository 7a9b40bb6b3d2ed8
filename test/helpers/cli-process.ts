/**
 * The featurewatch CLI as ONE child process (`node --import tsx src/cli.ts`, not the tsx wrapper,
 * which forks a second process and would make a SIGKILL hit only the wrapper), with the test-only
 * FW_* variables removed from its environment.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

export interface CliProcess {
  proc: ChildProcess;
  exit: Promise<number | null>;
  /** The daemon's HTTP port, from its "http listening" log line. */
  httpPort: Promise<number>;
  stderr: () => string;
}

export function spawnCli(args: string[], extraEnv: Record<string, string> = {}): CliProcess {
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FW_'))), ...extraEnv };
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let resolvePort: (p: number) => void;
  let rejectPort: (e: Error) => void;
  const httpPort = new Promise<number>((res, rej) => ((resolvePort = res), (rejectPort = rej)));
  httpPort.catch(() => undefined);
  proc.stderr!.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-200_000);
    const m = err.match(/"port":(\d+)[^\n]*http listening/);
    if (m) resolvePort(Number(m[1]));
  });
  proc.stdout!.resume();
  const exit = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      rejectPort(new Error(`featurewatch exited (${code}) before listening:\n${err}`));
      resolve(code);
    }),
  );
  return { proc, exit, httpPort, stderr: () => err };
}

/** Sums every sample of one metric (all label sets) in Prometheus text format. */
export function sumMetric(text: string, name: string): number {
  let n = 0;
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-z_]+)(\{[^}]*\})? (\S+)$/);
    if (m && m[1] === name) n += Number(m[3]);
  }
  return n;
}
