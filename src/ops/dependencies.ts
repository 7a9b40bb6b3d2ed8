/**
 * Up/down state of the daemon's dependencies (Kafka, ClickHouse), fed by the code that talks to
 * them. One log line per change (not per failed attempt), the `featurewatch_dependency_up` gauge,
 * and the `/status` document. A dependency being down is a state to report, never a reason to exit.
 */
import { Logger } from 'pino';
import { Gauge } from 'prom-client';

export type DependencyName = 'kafka' | 'clickhouse';

export interface DependencyStatus {
  up: boolean;
  /** ISO time of the last change (or of the first report). */
  since: string;
  /** Last error seen while down, one line. */
  lastError: string | null;
  /** Failed attempts since it went down. */
  failures: number;
}

export class Dependencies {
  private readonly state = new Map<DependencyName, DependencyStatus>();

  constructor(
    private readonly gauge: Gauge<'dependency'>,
    private readonly log: Logger,
  ) {}

  ok(name: DependencyName): void {
    const s = this.state.get(name);
    if (s?.up) return;
    this.state.set(name, { up: true, since: new Date().toISOString(), lastError: null, failures: 0 });
    this.gauge.set({ dependency: name }, 1);
    if (s) this.log.info({ dependency: name, downSince: s.since, failures: s.failures }, `${name} is reachable again`);
    else this.log.info({ dependency: name }, `${name} is reachable`);
  }

  failed(name: DependencyName, err: unknown): void {
    const line = oneLine(err);
    const s = this.state.get(name);
    if (s && !s.up) {
      s.failures++;
      s.lastError = line;
      return;
    }
    this.state.set(name, { up: false, since: new Date().toISOString(), lastError: line, failures: 1 });
    this.gauge.set({ dependency: name }, 0);
    // Expected condition (an outage, a broker not started yet): one clear line, no stack trace.
    this.log.warn({ dependency: name, error: line }, `${name} is unreachable; retrying in the background`);
  }

  /** Registers a dependency as not yet seen (down until the first success). */
  pending(name: DependencyName): void {
    if (this.state.has(name)) return;
    this.state.set(name, { up: false, since: new Date().toISOString(), lastError: null, failures: 0 });
    this.gauge.set({ dependency: name }, 0);
  }

  isUp(name: DependencyName): boolean {
    return this.state.get(name)?.up ?? false;
  }

  snapshot(): Record<string, DependencyStatus> {
    return Object.fromEntries([...this.state].map(([k, v]) => [k, { ...v }]));
  }
}

export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  return msg.split('\n')[0].slice(0, 300);
}
