/** `featurewatch baseline`: build a model's reference from a file and store it as a new version. */
import { Logger } from 'pino';
import { Config } from '../config/schema';
import { CliArgs, UsageError } from './args';
import { openStore } from '../store/client';
import { migrate } from '../store/migrations';
import { referencesFromFile } from '../references/from-file';
import { ReferenceRegistry } from '../references/registry';
import { resolve } from 'node:path';

export async function runBaseline(cfg: Config, log: Logger, args: CliArgs): Promise<number> {
  if (!args.input) throw new UsageError('baseline: --input FILE is required');
  if (!args.model) throw new UsageError('baseline: --model NAME is required');
  const built = await referencesFromFile(args.input, cfg, { model: args.model, modelVersion: args.modelVersion });
  const p = built.profiles.get(args.model);
  if (!p) throw new UsageError(`baseline: no valid events of model '${args.model}' in ${args.input} (${built.lines} lines, ${built.rejected} rejected)`);
  const store = openStore(cfg.clickhouse);
  await migrate(store);
  const refs = new ReferenceRegistry(cfg.drift, store, log, cfg.instanceId);
  const source = `file ${resolve(args.input)}${args.modelVersion ? ` model_version=${args.modelVersion}` : ''}`;
  const version = await refs.save(args.model, p.profile, source, p.events, args.version);
  const nf = Object.keys(p.profile.features).length;
  const nv = Object.keys(p.profile.vectors).length;
  process.stdout.write(`reference for model '${args.model}' stored as version ${version}: ${p.events} events, ${nf} features, ${nv} vectors\n`);
  await store.close();
  return 0;
}
