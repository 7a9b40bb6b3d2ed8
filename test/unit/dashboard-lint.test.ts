/**
 * Grafana's dashboard linter (grafana/dashboard-linter) rules that apply to SQL dashboards,
 * reproduced over dashboards/*.json, because the linter cannot be installed here (its releases
 * carry a replace directive, so `go install` refuses them, and older commits are not served by the
 * module proxy). Each rule follows the linter's own logic: template-on-time-change-reload-rule,
 * uneditable-dashboard, panel-units-rule (with its exceptions for value mappings and non-numeric
 * stat fields), panel-datasource-rule, template-datasource-rule, panel-title-description-rule and
 * panel-no-targets-rule. Also: every query target records the ClickHouse plugin version it was
 * written for (`pluginVersion`), so the plugin does not migrate it as a pre-4.x query.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(__dirname, '..', '..', 'dashboards');

interface FieldConfig {
  defaults: { unit?: string; mappings?: unknown };
  overrides?: { properties: { id: string; value?: unknown }[] }[];
}
interface Panel {
  type: string;
  title?: string;
  description?: string;
  datasource?: { uid?: string } | string;
  targets?: { pluginVersion?: string; refId: string }[];
  fieldConfig?: FieldConfig;
  options?: { reduceOptions?: { fields?: string } };
  panels?: Panel[];
}
interface Dashboard {
  editable: boolean;
  templating: { list: { name: string; label?: string; type: string; query?: unknown; refresh?: number }[] };
  panels: Panel[];
}

// The linter's list of valid units (Grafana's value formats).
const VALID_UNITS = new Set(
  `none string short percent percentunit humidity dB hex0x hex sci locale pixel accMS2 accFS2 accG degree radian grad arcmin arcsec
  areaM2 areaF2 areaMI2 flops mflops gflops tflops pflops eflops zflops yflops ppm conppb conngm3 conngNm3 conμgm3 conμgNm3 conmgm3
  conmgNm3 congm3 congNm3 conmgdL conmmolL bytes decbytes bits decbits kbytes deckbytes mbytes decmbytes gbytes decgbytes tbytes
  dectbytes pbytes decpbytes pps binBps Bps binbps bps KiBs Kibits KBs Kbits MiBs Mibits MBs Mbits GiBs Gibits GBs Gbits TiBs Tibits
  TBs Tbits PiBs Pibits PBs Pbits dateTimeAsIso dateTimeAsIsoNoDateIfToday dateTimeAsUS dateTimeAsUSNoDateIfToday dateTimeAsLocal
  dateTimeAsLocalNoDateIfToday dateTimeAsSystem dateTimeFromNow hertz ns µs ms s m h d dtdurationms dtdurations dthms dtdhms timeticks
  clockms clocks cps ops reqps rps wps iops cpm opm rpm wpm mps mpm bool bool_yes_no bool_on_off`.split(/\s+/),
);
const UNIT_PANELS = new Set(['stat', 'singlestat', 'graph', 'table', 'timeseries', 'gauge']);
const DATASOURCE_PANELS = new Set(['singlestat', 'graph', 'table', 'timeseries']);

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const load = (f: string) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Dashboard;
const allPanels = (d: Dashboard): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);

/** panel-units-rule: the unit an override sets wins, else the default unit. */
function configuredUnit(p: Panel): string {
  let unit = '';
  for (const o of p.fieldConfig?.overrides ?? []) for (const prop of o.properties) if (prop.id === 'unit') unit = String(prop.value);
  return unit || p.fieldConfig?.defaults.unit || '';
}
function hasValueMappings(p: Panel): boolean {
  for (const o of p.fieldConfig?.overrides ?? [])
    for (const prop of o.properties) if (prop.id === 'mappings' && prop.value != null) return true;
  return p.fieldConfig?.defaults.mappings != null;
}

/** The findings the linter would report for a dashboard, as `rule: subject`. */
function lintDashboard(d: Dashboard): string[] {
  const out: string[] = [];
  if (d.editable) out.push('uneditable-dashboard: editable');
  for (const v of d.templating.list)
    if (v.type === 'query' && v.refresh !== 2) out.push(`template-on-time-change-reload-rule: ${v.name} refresh ${v.refresh}`);
  const dsVars = d.templating.list.filter((v) => v.type === 'datasource');
  if (dsVars.length === 0) out.push('template-datasource-rule: no templated data source');
  for (const v of dsVars) {
    const q = String(v.query ?? '').toLowerCase();
    const names = new Set([`${q}_datasource`, ...(dsVars.length === 1 ? ['datasource'] : [])]);
    if (!names.has(v.name)) out.push(`template-datasource-rule: variable ${v.name}`);
  }
  const dsUids = new Set(dsVars.flatMap((v) => [`$${v.name}`, `\${${v.name}}`]));
  for (const p of allPanels(d)) {
    const title = p.title ?? '(untitled)';
    if (UNIT_PANELS.has(p.type)) {
      if (!p.title || !p.description) out.push(`panel-title-description-rule: ${title}`);
      if (!p.targets) out.push(`panel-no-targets-rule: ${title}`);
      const nonNumericStat = p.type === 'stat' && !!p.options?.reduceOptions?.fields;
      if (!nonNumericStat && !hasValueMappings(p) && !VALID_UNITS.has(configuredUnit(p)))
        out.push(`panel-units-rule: ${title} unit '${configuredUnit(p)}'`);
    }
    if (DATASOURCE_PANELS.has(p.type)) {
      const uid = typeof p.datasource === 'string' ? p.datasource : (p.datasource?.uid ?? '');
      if (!dsUids.has(uid)) out.push(`panel-datasource-rule: ${title} uses '${uid}'`);
    }
  }
  return out;
}

describe('dashboard linter rules', () => {
  it.each(files)('%s has no findings', (f) => {
    expect(lintDashboard(load(f))).toEqual([]);
  });

  it.each(files)('%s: every query target names the plugin version it was written for', (f) => {
    const targets = allPanels(load(f)).flatMap((p) => p.targets ?? []);
    expect(targets.length).toBeGreaterThan(0);
    for (const t of targets)
      expect({ refId: t.refId, pluginVersion: t.pluginVersion }).toEqual({
        refId: t.refId,
        pluginVersion: expect.stringMatching(/^4\.\d+\.\d+$/),
      });
  });

  it('reports what the linter reported before the dashboards were fixed', () => {
    const d = load(files[0]);
    const broken: Dashboard = structuredClone(d);
    broken.editable = true;
    broken.templating.list.filter((v) => v.type === 'query').forEach((v) => (v.refresh = 1));
    const table = allPanels(broken).find((p) => p.type === 'table' && !hasValueMappings(p))!;
    table.fieldConfig = { defaults: {}, overrides: [] };
    const stat = allPanels(broken).find((p) => p.type === 'timeseries')!;
    stat.fieldConfig = { defaults: { unit: 'furlongs' }, overrides: [] };
    stat.datasource = { uid: 'P1234' };
    const findings = lintDashboard(broken);
    expect(findings).toEqual(
      expect.arrayContaining([
        'uneditable-dashboard: editable',
        ...broken.templating.list.filter((v) => v.type === 'query').map((v) => `template-on-time-change-reload-rule: ${v.name} refresh 1`),
        `panel-units-rule: ${table.title} unit ''`,
        `panel-units-rule: ${stat.title} unit 'furlongs'`,
        `panel-datasource-rule: ${stat.title} uses 'P1234'`,
      ]),
    );
  });
});
