import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli, UsageError, commandHelp, COMMANDS, HELP } from '../../src/cli/args';

const dir = mkdtempSync(join(tmpdir(), 'fw-args-'));
const input = join(dir, 'in.ndjson');
writeFileSync(input, '{}\n');

describe('command line', () => {
  test('the version: --version, -V, -v, --show-version', () => {
    for (const flag of ['--version', '-V', '-v', '--show-version']) expect(parseCli([flag]).showVersion).toBe(true);
  });

  test("baseline's reference version is --ref-version; --version there is not an option of baseline", () => {
    expect(parseCli(['baseline', '-m', 'ranker', '-i', input, '--ref-version', '3']).refVersion).toBe(3);
    expect(() => parseCli(['baseline', '-m', 'ranker', '-i', input, '--version', '3'])).toThrow(/baseline: Unknown option '--version'/);
  });

  test('<command> --help and help <command> ask for that command only', () => {
    expect(parseCli(['replay', '--help'])).toMatchObject({ command: 'replay', help: true });
    expect(parseCli(['help', 'drift'])).toMatchObject({ command: 'drift', help: true });
    // --help wins over missing required options
    expect(parseCli(['baseline', '-h'])).toMatchObject({ command: 'baseline', help: true });
    const h = commandHelp('replay');
    expect(h).toMatch(/^Usage: featurewatch replay /m);
    expect(h).toContain('--input FILE');
    expect(h).not.toContain('--model');
    for (const name of Object.keys(COMMANDS)) {
      expect(HELP).toMatch(new RegExp(`^  ${name}\\s`, 'm'));
      expect(commandHelp(name)).toContain(`featurewatch ${name}`);
    }
  });

  test.each([
    [['replay'], /replay: --input FILE is required/],
    [['replay', '--input', join(dir, 'missing.ndjson')], /replay: --input .*missing\.ndjson: no such file/],
    [['replay', '--input', input, '--reference', join(dir, 'nope')], /replay: --reference .*nope: no such file/],
    [['replay', '--input', dir], /replay: --input .*: is a directory/],
    [['baseline', '-m', 'x', '--input', join(dir, 'missing')], /baseline: --input .*: no such file/],
    [['baseline', '-i', input], /baseline: --model NAME is required/],
    [['baseline', '-m', 'x', '--from', 'yesterday', '--to', '2024-01-01'], /--from 'yesterday' is not an ISO-8601 time/],
    [['drift', '--limit', '5'], /drift: Unknown option '--limit'/],
    [['collisions', '--limit', 'many'], /--limit: expected a non-negative integer, got 'many'/],
    [['demo', '-n', '-1'], /demo: .*-n/],
    [['demo', '-n', '1.5'], /--events: expected a non-negative integer/],
    [['replay', '--input', input, 'extra'], /replay: unexpected argument 'extra'/],
    [['drift', '--daemon', 'localhost:9464'], /--daemon 'localhost:9464' is not an http\(s\) URL/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['--nope'], /Unknown option '--nope'/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(UsageError);
    expect(() => parseCli(argv)).toThrow(message);
  });

  test('options may come before the command; stdin is -', () => {
    expect(parseCli(['-c', 'x.yaml', 'replay', '--input', '-', '--json'])).toMatchObject({
      command: 'replay',
      config: 'x.yaml',
      input: '-',
      json: true,
    });
    expect(parseCli(['demo', '-n', '0'])).toMatchObject({ command: 'demo', events: 0, keep: false });
  });
});
