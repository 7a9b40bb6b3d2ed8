/**
 * Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: fd 3 in,
 * fd 4 out, NUL-separated JSON), so no WebSocket client or browser driver package is needed. Opens
 * one page, records console errors, uncaught exceptions and every network request, and takes a
 * screenshot. The browser comes from Debian's packages (scripts/install-chromium.sh).
 */
import { spawn, execFileSync, ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';

export const CHROMIUM = '/usr/bin/chromium';

/** The browser's path, installing it with the repository's script when it is missing. */
export function ensureChromium(): string {
  if (!existsSync(CHROMIUM)) execFileSync('bash', [join(__dirname, '..', '..', 'scripts', 'install-chromium.sh')], { stdio: 'inherit' });
  return CHROMIUM;
}

export interface PageVisit {
  consoleErrors: string[];
  exceptions: string[];
  requests: string[];
  /** The value of `evaluate` in the loaded page. */
  value: unknown;
  png: Buffer;
}

export async function visit(url: string, evaluate: string, viewport = { width: 1200, height: 1600 }): Promise<PageVisit> {
  const profile = mkdtempSync(join(tmpdir(), 'fw-chromium-'));
  const proc: ChildProcess = spawn(
    ensureChromium(),
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-extensions',
      '--remote-debugging-pipe',
      `--user-data-dir=${profile}`,
      'about:blank',
    ],
    // Its own process group, so the renderer and helper processes go with it: they keep writing to
    // the profile for a moment after the browser process exits.
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'], detached: true },
  );
  const toBrowser = proc.stdio[3] as Writable;
  const fromBrowser = proc.stdio[4] as Readable;
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const listeners: ((m: { method: string; params: Record<string, unknown>; sessionId?: string }) => void)[] = [];
  let buf = '';
  fromBrowser.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let i;
    while ((i = buf.indexOf('\0')) >= 0) {
      const msg = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      if (msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${msg.error.message} (${JSON.stringify(msg.error)})`));
        else p?.resolve(msg.result ?? {});
      } else for (const l of listeners) l(msg);
    }
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      toBrowser.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });

  const visitResult: PageVisit = { consoleErrors: [], exceptions: [], requests: [], value: undefined, png: Buffer.alloc(0) };
  try {
    const { targetId } = (await send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    let loaded: () => void = () => undefined;
    const load = new Promise<void>((r) => (loaded = r));
    listeners.push((m) => {
      if (m.sessionId !== sessionId) return;
      const p = m.params;
      if (m.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert'))
        visitResult.consoleErrors.push(JSON.stringify(p.args));
      if (m.method === 'Runtime.exceptionThrown') visitResult.exceptions.push(JSON.stringify(p.exceptionDetails));
      if (m.method === 'Log.entryAdded' && (p.entry as { level: string }).level === 'error')
        visitResult.consoleErrors.push(JSON.stringify(p.entry));
      if (m.method === 'Network.requestWillBeSent') visitResult.requests.push(String((p.request as { url: string }).url));
      if (m.method === 'Page.loadEventFired') loaded();
    });
    for (const d of ['Page', 'Runtime', 'Log', 'Network']) await send(`${d}.enable`, {}, sessionId);
    await send('Emulation.setDeviceMetricsOverride', { ...viewport, deviceScaleFactor: 1, mobile: false }, sessionId);
    await send('Page.navigate', { url }, sessionId);
    await load;
    const r = (await send('Runtime.evaluate', { expression: evaluate, returnByValue: true }, sessionId)) as { result: { value: unknown } };
    visitResult.value = r.result.value;
    const shot = (await send('Page.captureScreenshot', { format: 'png' }, sessionId)) as { data: string };
    visitResult.png = Buffer.from(shot.data, 'base64');
    await send('Browser.close').catch(() => undefined);
  } finally {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    }
    try {
      process.kill(-proc.pid!, 'SIGKILL');
    } catch {
      // the group is already gone
    }
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
  return visitResult;
}
