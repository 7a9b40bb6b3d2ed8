import { Logger } from 'pino';
import { startDaemon, Daemon } from '../../src/daemon';
import { Config } from '../../src/config/schema';
import { AppOptions } from '../../src/app';

/** startDaemon, then wait until its store is migrated and its consumer started (queries can run). */
export async function startReadyDaemon(cfg: Config, log: Logger, opts?: AppOptions): Promise<Daemon> {
  const d = await startDaemon(cfg, log, opts);
  await d.started;
  return d;
}
