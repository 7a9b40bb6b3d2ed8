/**
 * `featurewatch baseline`: build a model's reference and store it as a new version — from a file,
 * or from a stored time range (the merged window states of that range, rebinned by
 * src/drift/rebase.ts; needs an earlier reference for the bins the states were counted on).
 */
import { Logger } from 'pino';
import { Config } from '../config/schema';
import { CliArgs, UsageError } from './args';
import { openStore, Store } from '../store/client';
import { migrate } from '../store/migrations';
import { referencesFromFile } from '../references/from-file';
import { ReferenceRegistry } from '../references/registry';
import { resolve } from 'node:path';
import {
  DriftWindow,
  DriftWindowJSON,
  OTHER_SEGMENT,
  ReferenceProfile,
  SegmentedReference,
  activeSegments,
  profileFromWindow,
  segmentKey,
  segmentProfiles,
} from '../drift';
import { chTime } from '../store/rows';
import { stringify as stringifyYaml } from 'yaml';
import { suggestConstraints } from '../references/suggest-constraints';

async function fromStoredRange(
  store: Store,
  refs: ReferenceRegistry,
  model: string,
  from: number,
  to: number,
  segmentFeatures: readonly string[],
): Promise<{ profile: ReferenceProfile; events: number }> {
  await refs.refresh();
  const ref = refs.get(model);
  if (!ref)
    throw new UsageError(
      `baseline: model '${model}' has no stored reference yet, so its window states have no bins to read (build one with --input first)`,
    );
  const rs = await store.client.query({
    query: `SELECT segment, state, events FROM ${store.database}.drift_state
            WHERE model = {m:String} AND reference_version = {v:UInt32} AND window_start >= {f:DateTime64(3, 'UTC')} AND window_start < {t:DateTime64(3, 'UTC')}`,
    query_params: { m: model, v: ref.version, f: chTime(from), t: chTime(to) },
    format: 'JSONEachRow',
  });
  const w = new DriftWindow(ref.profile);
  // Segments keep the old reference's values; each is rebuilt from its own merged states.
  const segProfiles = segmentProfiles(ref.profile, segmentFeatures);
  const segs = new Map<string, { w: DriftWindow; events: number }>();
  let events = 0;
  for (const r of (await rs.json()) as { segment: string; state: string; events: string }[]) {
    if (r.segment === '') {
      w.merge(DriftWindow.fromJSON(JSON.parse(r.state) as DriftWindowJSON, ref.profile));
      events += Number(r.events);
      continue;
    }
    const p = segProfiles.get(r.segment);
    if (!p) continue;
    let e = segs.get(r.segment);
    if (!e) segs.set(r.segment, (e = { w: new DriftWindow(p), events: 0 }));
    e.w.merge(DriftWindow.fromJSON(JSON.parse(r.state) as DriftWindowJSON, p));
    e.events += Number(r.events);
  }
  if (events === 0)
    throw new UsageError(
      `baseline: no stored window states of model '${model}' (reference v${ref.version}) in [${new Date(from).toISOString()}, ${new Date(to).toISOString()})`,
    );
  const profile = profileFromWindow(ref.profile, w);
  const active = activeSegments(ref.profile, segmentFeatures);
  if (active.length) {
    profile.segments = {};
    for (const [f, seg] of active) {
      const values = [...seg.values, OTHER_SEGMENT];
      const rebuilt: SegmentedReference = { values: seg.values, events: {}, profiles: {} };
      for (const v of values) {
        const e = segs.get(segmentKey(f, v));
        rebuilt.events[v] = e?.events ?? 0;
        rebuilt.profiles[v] = e ? profileFromWindow(seg.profiles[v], e.w) : { ...seg.profiles[v], features: {}, vectors: {} };
      }
      profile.segments[f] = rebuilt;
    }
  }
  return { profile, events };
}

/** YAML for the `constraints:` section, with a comment saying where it came from. */
function constraintsYaml(model: string, source: string, profile: ReferenceProfile, events: number): string {
  const list = suggestConstraints(model, profile, events);
  return `# constraints suggested by featurewatch baseline from ${source} (${events} events of model '${model}'); edit before use\n${stringifyYaml({ constraints: list })}`;
}

export async function runBaseline(cfg: Config, log: Logger, args: CliArgs): Promise<number> {
  // Options were checked by parseCli (model given, input readable or a valid range).
  const range = args.from !== undefined;
  if (args.suggestConstraints && !range) {
    // From a file nothing is stored, so the store is not opened.
    const file = await referencesFromFile(args.input!, cfg, { model: args.model!, modelVersion: args.modelVersion });
    const p = file.profiles.get(args.model!);
    if (!p)
      throw new UsageError(
        `baseline: no valid events of model '${args.model}' in ${args.input} (${file.lines} lines, ${file.rejected} rejected)`,
      );
    process.stdout.write(constraintsYaml(args.model!, `file ${resolve(args.input!)}`, p.profile, p.events));
    return 0;
  }
  const store = openStore(cfg.clickhouse);
  await migrate(store);
  const refs = new ReferenceRegistry(cfg.drift, store, log, cfg.instanceId);
  let built: { profile: ReferenceProfile; events: number };
  let source: string;
  try {
    if (range) {
      const [from, to] = [Date.parse(args.from!), Date.parse(args.to!)];
      built = await fromStoredRange(store, refs, args.model!, from, to, cfg.drift.segments);
      source = `stored range [${new Date(from).toISOString()}, ${new Date(to).toISOString()})`;
    } else {
      const file = await referencesFromFile(args.input!, cfg, { model: args.model!, modelVersion: args.modelVersion });
      const p = file.profiles.get(args.model!);
      if (!p)
        throw new UsageError(
          `baseline: no valid events of model '${args.model}' in ${args.input} (${file.lines} lines, ${file.rejected} rejected)`,
        );
      built = p;
      source = `file ${resolve(args.input!)}${args.modelVersion ? ` model_version=${args.modelVersion}` : ''}`;
    }
    if (args.suggestConstraints) {
      process.stdout.write(constraintsYaml(args.model!, source, built.profile, built.events));
      return 0;
    }
    const version = await refs.save(args.model!, built.profile, source, built.events, args.refVersion);
    const nf = Object.keys(built.profile.features).length;
    const nv = Object.keys(built.profile.vectors).length;
    process.stdout.write(
      `reference for model '${args.model}' stored as version ${version}: ${built.events} events, ${nf} features, ${nv} vectors (${source})\n`,
    );
  } finally {
    await store.close();
  }
  return 0;
}
