/** `featurewatch report`: one stored, evaluated window of a model as a self-contained HTML file. */
import { Logger } from 'pino';
import { Config } from '../config/schema';
import { CliArgs } from './args';
import { openStoreForReading } from '../store/read-access';
import { storedWindowHtml, writeHtml } from './report-data';

export async function runReport(cfg: Config, log: Logger, args: CliArgs): Promise<number> {
  // Options were checked by parseCli (model and html given, window a time or 'latest').
  const store = await openStoreForReading(cfg, { daemon: args.daemon });
  try {
    const data = await storedWindowHtml(cfg, store, log, args.model!, args.reportWindow ?? 'latest');
    await writeHtml(args.html!, data);
    if (args.html !== '-') process.stderr.write(`report written to ${args.html}\n`);
  } finally {
    await store.close();
  }
  return 0;
}
