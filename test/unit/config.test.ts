import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig, envOverrides, ConfigError, requireKafka } from '../../src/config/load';
import { limitsSchema, windowSchema } from '../../src/config/schema';

function yamlFile(text: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'fwcfg-')), 'c.yaml');
  writeFileSync(f, text);
  return f;
}

describe('configuration', () => {
  test('every key has a default, so no file is needed for replay and demo', () => {
    const c = parseConfig({});
    expect(c.window.seconds).toBe(300);
    expect(c.clickhouse.url).toBe('');
    expect(c.kafka.groupId).toBe('featurewatch');
  });

  test('YAML file, then FW_* environment overrides, lists split on commas', () => {
    const f = yamlFile('kafka:\n  brokers: [a:9092]\n  topics: [t1]\nwindow:\n  seconds: 60\n');
    const c = loadConfig({
      file: f,
      env: { FW_KAFKA__BROKERS: 'b:9092,c:9092', FW_WINDOW__ALLOWED_LATENESS_SECONDS: '5', FW_CLICKHOUSE__PASSWORD: 's3cret' },
    });
    expect(c.kafka.brokers).toEqual(['b:9092', 'c:9092']);
    expect(c.kafka.topics).toEqual(['t1']);
    expect(c.window).toMatchObject({ seconds: 60, allowedLatenessSeconds: 5 });
    expect(c.clickhouse.password).toBe('s3cret');
  });

  test.each([
    [{ window: { seconds: -1 } }, /window\.seconds: .*>=0|window\.seconds: .*0/],
    [{ kafka: { brokers: 'a:9092' } }, /kafka\.brokers: .*array/i],
    [{ kafka: { sasl: { mechanism: 'kerberos', username: 'u', password: 'p' } } }, /kafka\.sasl\.mechanism/],
    [{ clickhouse: { database: 'drop table' } }, /clickhouse\.database: must be a plain identifier/],
    [{ windw: { seconds: 1 } }, /unknown key\(s\) 'windw'/],
    [{ store: { flushIntervalSeconds: 'soon' } }, /store\.flushIntervalSeconds: .*number/i],
    [{ http: { port: 70000 } }, /http\.port/],
  ])('rejects %j naming the key and the problem', (raw, msg) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(msg);
  });

  test('run needs brokers and topics', () => {
    expect(() => requireKafka(parseConfig({}))).toThrow(/kafka\.brokers: required/);
    expect(() => requireKafka(parseConfig({ kafka: { brokers: ['a:1'] } }))).toThrow(/kafka\.topics: required/);
  });

  test('unreadable or malformed files name the file', () => {
    expect(() => loadConfig({ file: '/nonexistent/fw.yaml', env: {} })).toThrow(/config file \/nonexistent\/fw.yaml: cannot read/);
    expect(() => loadConfig({ file: yamlFile('kafka: [unclosed'), env: {} })).toThrow(/not valid YAML/);
  });

  test('environment keys map to camelCase paths', () => {
    expect(envOverrides({ FW_STORE__FLUSH_MAX_MESSAGES: '10', OTHER: 'x' })).toEqual({ store: { flushMaxMessages: 10 } });
  });
});

describe('config parse errors never echo secret values', () => {
  test.each([
    ['clickhouse:\n  url: http://x\n  password: hunter2: oops\n', /line 3, column 13 \(key 'password'\): block as implicit key/],
    ["kafka:\n  sasl: { mechanism: plain, username: u, password: 'hunter2\n", /not valid YAML at line 3/],
    ['clickhouse:\n  password: "hunter2\n', /not valid YAML/],
    ['clickhouse:\n    password: hunter2\n  url: x\n', /bad indent/],
    ['x: *hunter2\n', /not valid YAML/],
    ['clickhouse: {password: hunter2]\n', /line 1, column 31 \(key 'clickhouse'\)/],
    ['password: hunter2\npassword: hunter2\n', /duplicate key/],
  ])('%j', (text, msg) => {
    let err: Error | null = null;
    try {
      loadConfig({ file: yamlFile(text), env: {} });
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toMatch(msg);
    expect(err!.message).not.toContain('hunter2');
  });
});

describe('limits and window keys', () => {
  test('every key has a description for the generated config reference', () => {
    for (const [section, schema] of [
      ['limits', limitsSchema],
      ['window', windowSchema],
    ] as const) {
      for (const [key, s] of Object.entries(schema.shape))
        expect([`${section}.${key}`, (s as { description?: string }).description]).toEqual([
          `${section}.${key}`,
          expect.stringMatching(/\w{3,}/),
        ]);
    }
  });

  test('the contract bounds are validated: a float bound the moments cannot hold, a window the column cannot hold', () => {
    expect(() => parseConfig({ limits: { maxAbsNumber: 1e200 } })).toThrow(/limits\.maxAbsNumber/);
    expect(() => parseConfig({ window: { seconds: 2 ** 32 } })).toThrow(/window\.seconds/);
    expect(() => parseConfig({ window: { watermarkEvents: 0 } })).toThrow(/window\.watermarkEvents/);
    expect(parseConfig({}).limits).toMatchObject({
      maxFutureSeconds: 300,
      maxAbsNumber: 1e100,
      maxModelLength: 256,
      maxInputIdLength: 512,
    });
  });
});
