/** The daemon as it ships (`node dist/cli.js`), compiled from the current src into a scratch directory (dist/ may be stale). */
import { execFileSync } from 'node:child_process';
import { copyFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** Compiles src into `work`/dist and returns the path of its cli.js. */
export function buildCli(work: string): string {
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(root, 'tsconfig.json'),
      '--outDir',
      join(work, 'dist'),
      '--sourceMap',
      'false',
    ],
    { stdio: 'inherit' },
  );
  copyFileSync(join(root, 'package.json'), join(work, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'));
  return join(work, 'dist/cli.js');
}
