/**
 * deploy/ checked as far as a machine without a cluster or a Docker engine can: the Helm chart
 * (default values, every optional resource, an existing Secret, and a model-server chart that
 * includes featurewatch as a native sidecar) and the kustomize example are rendered and validated
 * strictly against the Kubernetes OpenAPI schemas of 1.30 and the newest release bundled offline,
 * the Prometheus Operator resources against the operator's CRD schemas, the alert rules with
 * promtool (syntax and unit tests), the Dockerfile with hadolint (the dashboards' linter rules are in
 * test/unit/dashboard-lint.test.ts). On top of schema validity it checks what the schemas cannot: featurewatch is
 * hardened and probed as the daemon expects in every rendering, the rendered config passes the
 * daemon's own config loader, selectors meet their targets, the chart's rules and dashboards are
 * the repository's files. The tools come from scripts/deploy-tools.sh (built or installed once,
 * cached in ${FW_CACHE:-~/.cache/featurewatch}).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { loadConfig, requireKafka } from '../../src/config/load';

const ROOT = join(__dirname, '..', '..');
const CHART = join(ROOT, 'deploy', 'helm', 'featurewatch');
const EXAMPLE_CHART = join(ROOT, 'deploy', 'helm', 'examples', 'model-server');
const RULES = join(ROOT, 'deploy', 'prometheus', 'featurewatch-rules.yaml');
const DASHBOARDS = join(ROOT, 'dashboards');
const PROVISIONING = join(ROOT, 'deploy', 'grafana', 'provisioning');
/** The oldest Kubernetes the native sidecar example is validated for, and the newest bundled offline. */
const KUBE_VERSIONS = ['1.30.0', '1.37.0'];
const COLD_BUILD_MS = 40 * 60_000;

// ------------------------------------------------------------------ plumbing
type Obj = Record<string, unknown>;
interface K8s {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Obj;
  data?: Record<string, string>;
  [k: string]: unknown;
}
interface Container {
  name: string;
  image: string;
  restartPolicy?: string;
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: Obj }[];
  securityContext?: Obj;
  resources?: { requests?: Obj; limits?: Obj };
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Obj;
  volumes?: ({ name: string } & Obj)[];
  terminationGracePeriodSeconds?: number;
}

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, input: opts.input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: `${r.stdout}\n${r.stderr}` };
}

/** Runs a command that must succeed; its output is the failure message otherwise. */
function ok(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.output}`);
  return r.stdout;
}

const docs = (text: string): K8s[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as K8s | null)
    .filter((d): d is K8s => d !== null);
const ofKind = (all: K8s[], kind: string) => all.filter((d) => d.kind === kind);
const one = (all: K8s[], kind: string): K8s => {
  const found = ofKind(all, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0];
};
const podSpec = (workload: K8s) => ((workload.spec as Obj).template as { spec: PodSpec }).spec;
const podLabels = (workload: K8s) => ((workload.spec as Obj).template as { metadata: { labels: Record<string, string> } }).metadata.labels;
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

// ------------------------------------------------------------------ tools and renderings
interface Tools {
  helm: string;
  promtool: string;
  kustomize: string;
  python: string;
  kubernetes_validate: string;
  hadolint: string;
  crds: string;
}
let tools: Tools;
let work: string;
const rendered: Record<string, K8s[]> = {};
const renderedFiles: Record<string, string> = {};

function helmTemplate(name: string, chart: string, extra: string[] = []): void {
  const text = ok(tools.helm, ['template', 'fw', chart, '--namespace', 'ml', '--kube-version', KUBE_VERSIONS[0], ...extra]);
  rendered[name] = docs(text);
  renderedFiles[name] = join(work, `${name}.yaml`);
  writeFileSync(renderedFiles[name], text);
}

/** The model-server example with the featurewatch chart in charts/, as `helm dependency update` leaves it. */
function exampleChart(): string {
  const dir = join(work, 'model-server');
  cpSync(EXAMPLE_CHART, dir, { recursive: true });
  cpSync(CHART, join(dir, 'charts', 'featurewatch'), { recursive: true, dereference: true });
  return dir;
}

beforeAll(() => {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'deploy-tools.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: COLD_BUILD_MS,
  });
  if (r.status !== 0) throw new Error(`scripts/deploy-tools.sh failed (${r.status ?? r.signal}); its messages are above`);
  tools = Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as unknown as Tools;
  work = mkdtempSync(join(tmpdir(), 'fw-packaging-'));
  helmTemplate('chart-default', CHART);
  helmTemplate('chart-all', CHART, ['-f', join(CHART, 'ci', 'all-enabled-values.yaml')]);
  helmTemplate('chart-existing-secret', CHART, ['--set', 'existingSecret=ranker-credentials']);
  helmTemplate('sidecar-chart', exampleChart());
  const [kcmd, ...kargs] = tools.kustomize.split(' ');
  const kustomized = ok(kcmd, [...kargs, join(ROOT, 'deploy', 'kubernetes')]);
  rendered.kustomize = docs(kustomized);
  renderedFiles.kustomize = join(work, 'kustomize.yaml');
  writeFileSync(renderedFiles.kustomize, kustomized);
}, COLD_BUILD_MS + 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const RENDERINGS = ['chart-default', 'chart-all', 'chart-existing-secret', 'sidecar-chart', 'kustomize'];

// ------------------------------------------------------------------ schemas
describe('manifests are valid', () => {
  it('helm lint passes for the chart (default and all-enabled values) and the sidecar example', () => {
    for (const args of [[CHART], [CHART, '-f', join(CHART, 'ci', 'all-enabled-values.yaml')], [exampleChart()]]) {
      const out = ok(tools.helm, ['lint', '--strict', '--kube-version', KUBE_VERSIONS[0], ...args]);
      expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it.each(RENDERINGS)('%s: every core resource is strictly valid for Kubernetes 1.30 and the newest', (name) => {
    const core = rendered[name].filter((d) => !d.apiVersion.startsWith('monitoring.coreos.com/'));
    expect(core.length).toBeGreaterThan(0);
    // Custom resources' metadata must be valid ObjectMeta too; the CRD schemas leave it open.
    const metaOnly = rendered[name]
      .filter((d) => d.apiVersion.startsWith('monitoring.coreos.com/'))
      .map((d) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: d.metadata }));
    const file = join(work, `${name}-core.yaml`);
    writeFileSync(file, [...core, ...metaOnly].map((d) => JSON.stringify(d)).join('\n---\n'));
    for (const version of KUBE_VERSIONS) {
      const r = run(tools.kubernetes_validate, ['--strict', '--quiet', '-k', version, file]);
      expect({ version, status: r.status, output: r.output.trim() }).toEqual({ version, status: 0, output: '' });
    }
  });

  it.each(RENDERINGS)('%s: Prometheus Operator resources are strictly valid against the operator CRDs', (name) => {
    const out = ok(tools.python, [join(ROOT, 'test', 'support', 'validate-crs.py'), tools.crds, renderedFiles[name]]);
    expect(out).toBe('');
  });

  it("the chart's appVersion and the examples' image tags are the package version", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const chart = parseYaml(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as { version: string; appVersion: string };
    expect({ chart: chart.version, app: chart.appVersion }).toEqual({ chart: version, app: version });
    for (const name of ['chart-default', 'sidecar-chart', 'kustomize']) {
      for (const { c } of featurewatchPods(name)) expect(c.image).toMatch(new RegExp(`:${version.replace(/\./g, '\\.')}$`));
    }
  });

  it('the packaged chart carries the rules and dashboards it links to (a published chart has no repository around it)', () => {
    const out = ok(tools.helm, ['package', CHART, '--destination', work]);
    const tgz = out.trim().split(' ').pop()!;
    const text = ok(tools.helm, [
      'template',
      'fw',
      tgz,
      '--kube-version',
      KUBE_VERSIONS[0],
      '--set',
      'prometheusRule.enabled=true',
      '--set',
      'dashboards.enabled=true',
    ]);
    const packaged = docs(text);
    expect(one(packaged, 'PrometheusRule').spec).toEqual(one(rendered['chart-all'], 'PrometheusRule').spec);
    const dashboards = (all: K8s[]) => ofKind(all, 'ConfigMap').find((d) => d.metadata.labels?.grafana_dashboard === '1')?.data;
    expect(dashboards(packaged)).toEqual(dashboards(rendered['chart-all']));
  });

  it('the validators reject what they should (an unknown field, a wrong type)', () => {
    const deployment = structuredClone(one(rendered['chart-default'], 'Deployment'));
    (podSpec(deployment).containers[0] as unknown as Obj).imagePullPolicey = 'Always';
    const bad = join(work, 'bad-core.yaml');
    writeFileSync(bad, JSON.stringify(deployment));
    const core = run(tools.kubernetes_validate, ['--strict', '--quiet', '-k', KUBE_VERSIONS[1], bad]);
    expect(core.status).not.toBe(0);
    expect(core.output).toMatch(/imagePullPolicey/);

    const monitor = structuredClone(one(rendered['chart-all'], 'ServiceMonitor'));
    ((monitor.spec as Obj).endpoints as Obj[])[0].interval = 30;
    const badCr = join(work, 'bad-cr.yaml');
    writeFileSync(badCr, JSON.stringify(monitor));
    const cr = run(tools.python, [join(ROOT, 'test', 'support', 'validate-crs.py'), tools.crds, badCr]);
    expect(cr.status).toBe(1);
    expect(cr.stdout).toMatch(/endpoints\/0\/interval/);
  });
});

// ------------------------------------------------------------------ featurewatch in every pod
/** The featurewatch container of each workload in a rendering, with its pod. */
function featurewatchPods(name: string): { workload: K8s; pod: PodSpec; c: Container; sidecar: boolean }[] {
  return ofKind(rendered[name], 'Deployment').flatMap((workload) => {
    const pod = podSpec(workload);
    const init = (pod.initContainers ?? []).filter((c) => c.name === 'featurewatch');
    const main = pod.containers.filter((c) => c.name === 'featurewatch');
    return [...init.map((c) => ({ workload, pod, c, sidecar: true })), ...main.map((c) => ({ workload, pod, c, sidecar: false }))];
  });
}

/** The featurewatch config a pod mounts, as the daemon would load it (file + environment). */
function podConfig(name: string, pod: PodSpec, c: Container) {
  const mount = c.volumeMounts?.find((m) => m.mountPath === '/etc/featurewatch');
  const volume = pod.volumes?.find((v) => v.name === mount?.name) as { configMap?: { name: string } } | undefined;
  const cm = ofKind(rendered[name], 'ConfigMap').find((d) => d.metadata.name === volume?.configMap?.name);
  if (!cm?.data?.['config.yaml']) throw new Error(`${name}: no ConfigMap with config.yaml mounted at /etc/featurewatch`);
  const file = join(work, `${name}-config.yaml`);
  writeFileSync(file, cm.data['config.yaml']);
  // Environment as the pod would have it: Secret values replaced by valid stand-ins.
  const standIn: Record<string, string> = {
    FW_CLICKHOUSE__PASSWORD: 'from-secret',
    FW_KAFKA__SASL__PASSWORD: 'from-secret',
    FW_ALERTS__WEBHOOKS: '[{"url":"https://hooks.example.com/featurewatch"}]',
  };
  const env: NodeJS.ProcessEnv = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if ((e.valueFrom as Obj | undefined)?.fieldRef) env[e.name] = 'ranker-7d9f-abcde';
    else if (e.name in standIn) env[e.name] = standIn[e.name];
    else throw new Error(`${name}: no stand-in value for ${e.name} from a Secret`);
  }
  const cfg = loadConfig({ file, env });
  requireKafka(cfg);
  return { cfg, raw: parseYaml(cm.data['config.yaml']) as Obj };
}

describe('featurewatch is hardened, probed and configured as the daemon expects', () => {
  it.each(RENDERINGS)('%s', (name) => {
    const pods = featurewatchPods(name);
    if (name === 'chart-default' || name === 'chart-all' || name === 'chart-existing-secret')
      expect(pods.map((p) => p.sidecar)).toEqual([false]);
    else expect(pods.map((p) => p.sidecar)).toEqual([true]);

    for (const { pod, c, sidecar } of pods) {
      const sc = c.securityContext ?? {};
      const podSc = pod.securityContext ?? {};
      expect(sc).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(sc.runAsNonRoot ?? podSc.runAsNonRoot).toBe(true);
      expect(Number(sc.runAsUser ?? podSc.runAsUser)).toBeGreaterThan(0);
      expect((sc.seccompProfile ?? podSc.seccompProfile) as Obj).toEqual({ type: 'RuntimeDefault' });
      expect(sc.privileged).toBeUndefined();
      for (const r of ['cpu', 'memory']) {
        expect(c.resources?.requests?.[r]).toBeDefined();
        expect(c.resources?.limits?.[r]).toBeDefined();
      }

      // Probes: startup and liveness on /healthz, readiness on /readyz, all on the metrics port.
      const port = c.ports?.find((p) => p.containerPort === 9464 || /metrics/.test(p.name));
      expect(port).toBeDefined();
      expect(c.startupProbe?.httpGet).toEqual({ path: '/healthz', port: port!.name });
      expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: port!.name });
      expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: port!.name });
      if (sidecar) expect(c.restartPolicy).toBe('Always');

      // The config is valid for `featurewatch run`, and agrees with the pod around it.
      const { cfg, raw } = podConfig(name, pod, c);
      expect(cfg.http.port).toBe(port!.containerPort);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(cfg.shutdownGraceSeconds);
      expect((raw.clickhouse as Obj).path).toBeDefined();
      expect((raw.clickhouse as Obj).password).toBeUndefined();
      // Everything featurewatch may write is on an emptyDir: the store path and /tmp.
      const emptyDirs = new Set((pod.volumes ?? []).filter((v) => 'emptyDir' in v).map((v) => v.name));
      const writable = (c.volumeMounts ?? []).filter((m) => emptyDirs.has(m.name) && !m.readOnly).map((m) => m.mountPath);
      expect(writable.some((p) => cfg.clickhouse.path.startsWith(`${p}/`))).toBe(true);
      expect(writable).toContain('/tmp');
    }
    // Scraping goes through a ServiceMonitor or PodMonitor, not prometheus.io annotations.
    expect(JSON.stringify(rendered[name])).not.toMatch(/prometheus\.io\//);
  });

  it('secrets come from the environment: a created Secret, an existing one, or none', () => {
    const envFrom = (name: string) =>
      (featurewatchPods(name)[0].c.env ?? [])
        .filter((e) => e.valueFrom && 'secretKeyRef' in e.valueFrom)
        .map((e) => [e.name, (e.valueFrom as { secretKeyRef: { name: string; key: string } }).secretKeyRef]);
    expect(ofKind(rendered['chart-default'], 'Secret')).toEqual([]);
    expect(envFrom('chart-default')).toEqual([]);

    const created = one(rendered['chart-all'], 'Secret');
    expect(Object.keys(created.data ?? {}).sort()).toEqual(['clickhouse-password', 'kafka-sasl-password']);
    expect(envFrom('chart-all')).toEqual(
      expect.arrayContaining([
        ['FW_CLICKHOUSE__PASSWORD', { name: created.metadata.name, key: 'clickhouse-password', optional: true }],
        ['FW_KAFKA__SASL__PASSWORD', { name: created.metadata.name, key: 'kafka-sasl-password', optional: true }],
      ]),
    );

    expect(ofKind(rendered['chart-existing-secret'], 'Secret')).toEqual([]);
    // Without kafka.sasl in the config, the SASL password is not passed (it would be an incomplete kafka.sasl).
    expect(envFrom('chart-existing-secret')).toEqual([
      ['FW_CLICKHOUSE__PASSWORD', { name: 'ranker-credentials', key: 'clickhouse-password', optional: true }],
    ]);

    // The kustomize example references its Secret but does not apply one (a real one would be overwritten).
    expect(ofKind(rendered.kustomize, 'Secret')).toEqual([]);
    expect(envFrom('kustomize').map(([, ref]) => (ref as { name: string }).name)).toEqual(['featurewatch-ranker', 'featurewatch-ranker']);
    expect(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'kustomization.yaml'), 'utf8')).not.toMatch(/^\s*-\s*secret/m);
  });

  it('the chart: Service, ServiceMonitor and PodDisruptionBudget select the featurewatch pods and port', () => {
    const all = rendered['chart-all'];
    const deployment = one(all, 'Deployment');
    const labels = podLabels(deployment);
    const service = one(all, 'Service');
    expect(matches((service.spec as Obj).selector as Record<string, string>, labels)).toBe(true);
    const servicePorts = ((service.spec as Obj).ports as { name: string; targetPort: string }[]).map((p) => p.name);
    const monitor = one(all, 'ServiceMonitor');
    expect(
      matches(((monitor.spec as Obj).selector as { matchLabels: Record<string, string> }).matchLabels, service.metadata.labels ?? {}),
    ).toBe(true);
    for (const e of (monitor.spec as Obj).endpoints as { port: string; path: string }[]) {
      expect(servicePorts).toContain(e.port);
      expect(e.path).toBe('/metrics');
    }
    expect(monitor.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    const pdb = one(all, 'PodDisruptionBudget');
    expect(matches(((pdb.spec as Obj).selector as { matchLabels: Record<string, string> }).matchLabels, labels)).toBe(true);
    // A config change rolls the pods.
    expect(((deployment.spec as Obj).template as { metadata: { annotations: Obj } }).metadata.annotations['checksum/config']).toMatch(
      /^[0-9a-f]{64}$/,
    );
  });

  it.each(['kustomize', 'sidecar-chart'])('%s: the PodMonitor scrapes the sidecar port of the model-server pods', (name) => {
    const monitor = one(rendered[name], 'PodMonitor');
    const deployment = one(rendered[name], 'Deployment');
    expect(matches(((monitor.spec as Obj).selector as { matchLabels: Record<string, string> }).matchLabels, podLabels(deployment))).toBe(
      true,
    );
    const sidecar = podSpec(deployment).initContainers!.find((c) => c.name === 'featurewatch')!;
    for (const e of (monitor.spec as Obj).podMetricsEndpoints as { port: string }[]) {
      expect(sidecar.ports?.map((p) => p.name)).toContain(e.port);
    }
    // The model server keeps its own containers; featurewatch is not among them.
    expect(podSpec(deployment).containers.map((c) => c.name)).not.toContain('featurewatch');
  });

  it('the chart refuses contradictory settings with the value named', () => {
    const fail = (args: string[]) => run(tools.helm, ['template', 'fw', CHART, '--kube-version', KUBE_VERSIONS[0], ...args]);
    expect(fail(['--set', 'terminationGracePeriodSeconds=20']).stderr).toMatch(
      /terminationGracePeriodSeconds \(20\) must be above config.shutdownGraceSeconds \(25\)/,
    );
    expect(fail(['--set', 'config.clickhouse.url=']).stderr).toMatch(/config.clickhouse.url is empty .* set replicaCount: 1/);
    expect(fail(['--set', 'config.clickhouse.url=', '--set', 'replicaCount=1']).status).toBe(0);
    expect(fail(['--set', 'config.clickhouse.password=oops']).stderr).toMatch(/config\/clickhouse\/password/);
    expect(fail(['--set', 'serviceMonitor.enabeld=true']).stderr).toMatch(/enabeld/);
  });
});

// ------------------------------------------------------------------ rules
describe('alert rules', () => {
  it('promtool checks the rules file and its unit tests pass', () => {
    expect(ok(tools.promtool, ['check', 'rules', RULES])).toMatch(/SUCCESS: \d+ rules found/);
    expect(ok(tools.promtool, ['test', 'rules', 'featurewatch-rules.test.yaml'], { cwd: join(ROOT, 'deploy', 'prometheus') })).toMatch(
      /SUCCESS/,
    );
  });

  it.each(['chart-all', 'sidecar-chart'])('%s: the PrometheusRule carries exactly the rules file', (name) => {
    const rule = one(rendered[name], 'PrometheusRule');
    const file = parseYaml(readFileSync(RULES, 'utf8')) as Obj;
    expect(rule.spec).toEqual({ groups: file.groups });
    const out = join(work, `${name}-rules.yaml`);
    writeFileSync(out, JSON.stringify(rule.spec));
    expect(ok(tools.promtool, ['check', 'rules', out])).toMatch(/SUCCESS/);
  });
});

// ------------------------------------------------------------------ Grafana
const dashboardFiles = readdirSync(DASHBOARDS)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('Grafana', () => {
  it('the chart ships the dashboards unchanged in a ConfigMap for the Grafana sidecar', () => {
    const cm = ofKind(rendered['chart-all'], 'ConfigMap').find((d) => d.metadata.labels?.grafana_dashboard === '1');
    expect(cm).toBeDefined();
    expect(Object.keys(cm!.data ?? {}).sort()).toEqual(dashboardFiles);
    for (const f of dashboardFiles) expect(cm!.data![f]).toBe(readFileSync(join(DASHBOARDS, f), 'utf8'));
    expect(ofKind(rendered['chart-default'], 'ConfigMap').some((d) => d.metadata.labels?.grafana_dashboard)).toBe(false);
  });

  it('provisioning: the ClickHouse plugin with credentials from the environment, and a file provider', () => {
    const dsText = readFileSync(join(PROVISIONING, 'datasources', 'featurewatch-clickhouse.yaml'), 'utf8');
    const ds = parseYaml(dsText) as { apiVersion: number; datasources: { type: string; jsonData: Obj; secureJsonData: Obj }[] };
    expect(ds.apiVersion).toBe(1);
    expect(ds.datasources).toHaveLength(1);
    const [source] = ds.datasources;
    expect(source.type).toBe('grafana-clickhouse-datasource');
    expect(source.secureJsonData.password).toMatch(/^\$\{[A-Z_]+\}$/);
    for (const k of ['host', 'port', 'secure', 'username']) expect(String(source.jsonData[k])).toMatch(/^\$\{[A-Z_]+\}$/);
    // Every variable the file uses is documented in its header.
    const body = dsText
      .split('\n')
      .filter((l) => !l.trimStart().startsWith('#'))
      .join('\n');
    for (const [, v] of body.matchAll(/\$\{([A-Z_]+)\}/g)) expect(dsText).toMatch(new RegExp(`^#\\s+${v}\\s`, 'm'));

    const prov = parseYaml(readFileSync(join(PROVISIONING, 'dashboards', 'featurewatch.yaml'), 'utf8')) as {
      apiVersion: number;
      providers: { type: string; allowUiUpdates: boolean; options: { path: string } }[];
    };
    expect(prov.apiVersion).toBe(1);
    expect(prov.providers).toEqual([
      expect.objectContaining({
        type: 'file',
        allowUiUpdates: false,
        options: expect.objectContaining({ path: expect.stringMatching(/^\//) }),
      }),
    ]);
  });
});

// ------------------------------------------------------------------ image
describe('image', () => {
  const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');

  it('hadolint finds nothing in the Dockerfile', () => {
    const r = run(tools.hadolint, [join(ROOT, 'deploy', 'Dockerfile')]);
    expect({ status: r.status, output: r.output.trim() }).toEqual({ status: 0, output: '' });
  });

  it('installs with npm ci, runs as a numeric non-root user, and the default target leaves out the embedded engine', () => {
    const runs = [...dockerfile.matchAll(/^RUN (.*(?:\\\n.*)*)/gm)].map((m) => m[1]);
    expect(runs.some((r) => /npm install/.test(r))).toBe(false);
    expect(runs.filter((r) => /npm ci/.test(r)).length).toBeGreaterThan(0);
    const stages = dockerfile.split(/^FROM /m).slice(1);
    const last = stages[stages.length - 1];
    expect(last).toMatch(/ AS server\n/);
    expect(last).toMatch(/^USER [1-9]\d*:[1-9]\d*$/m);
    const serverDeps = stages.find((s) => / AS server-deps\n/.test(s))!;
    expect(serverDeps).toMatch(/npm ci --omit=dev --omit=optional/);
    expect(last).toMatch(/COPY --from=server-deps /);
    for (const s of stages.filter((st) => / AS (server|embedded)\n/.test(st))) expect(s).toMatch(/^USER [1-9]\d*:[1-9]\d*$/m);
  });
});
