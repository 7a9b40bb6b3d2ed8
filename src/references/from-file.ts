/** Builds per-model reference profiles from an NDJSON file (baseline, replay --reference). */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Config } from '../config/schema';
import { Decoder } from '../decode';
import { isRejection } from '../core/rejection';
import { ReferenceProfile } from '../drift';
import { ModelReferenceBuilder } from './registry';

export interface FileReferences {
  profiles: Map<string, { profile: ReferenceProfile; events: number }>;
  lines: number;
  rejected: number;
}

export async function referencesFromFile(
  path: string,
  cfg: Config,
  filter: { model?: string; modelVersion?: string } = {},
): Promise<FileReferences> {
  const decoder = new Decoder(cfg.limits, 'json');
  const builders = new Map<string, { b: ModelReferenceBuilder; events: number }>();
  const rl = createInterface({ input: path === '-' ? process.stdin : createReadStream(path), crlfDelay: Infinity });
  let lines = 0;
  let rejected = 0;
  for await (const text of rl) {
    lines++;
    if (!text.trim()) continue;
    const ev = decoder.decode(text, undefined, { topic: `file:${path}`, partition: 0, offset: lines }, Date.now());
    if (isRejection(ev)) {
      rejected++;
      continue;
    }
    if (filter.model && ev.model !== filter.model) continue;
    if (filter.modelVersion && ev.modelVersion !== filter.modelVersion) continue;
    let e = builders.get(ev.model);
    if (!e) builders.set(ev.model, (e = { b: new ModelReferenceBuilder(cfg.drift), events: 0 }));
    e.b.observe(ev);
    e.events++;
  }
  const profiles = new Map<string, { profile: ReferenceProfile; events: number }>();
  for (const [model, e] of builders) profiles.set(model, { profile: e.b.build(), events: e.events });
  return { profiles, lines, rejected };
}
