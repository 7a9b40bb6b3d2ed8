/**
 * Runs a bench from tsc's output, the way the daemon ships, instead of under tsx. tsx compiles to
 * CommonJS that reads every imported binding through a getter: on the per-message hot path that
 * costs several percent (decode + quality statistics measured 0.736× JSON.parse under tsx, 0.774×
 * compiled, same run conditions), so timings under tsx understate the shipped code.
 *
 * Call `runCompiled(__filename)` first thing: under tsx it compiles the bench (and what it imports)
 * into a scratch directory, runs it there with the same arguments and exits with its status; in the
 * compiled run it returns and the bench goes on. FW_BENCH_TSX=1 keeps the tsx run (to compare).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');

export function runCompiled(file: string): void {
  if (!file.endsWith('.ts') || process.env.FW_BENCH_TSX === '1') return;
  const work = mkdtempSync(join(tmpdir(), 'fw-bench-build-'));
  try {
    const tsconfig = join(work, 'tsconfig.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: join(root, 'tsconfig.json'),
        compilerOptions: {
          rootDir: root,
          outDir: join(work, 'out'),
          sourceMap: false,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        files: [file],
        include: [],
      }),
    );
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { stdio: 'inherit' });
    copyFileSync(join(root, 'package.json'), join(work, 'out', 'package.json'));
    symlinkSync(join(root, 'node_modules'), join(work, 'out', 'node_modules'));
    const compiled = join(work, 'out', relative(root, file).replace(/\.ts$/, '.js'));
    const r = spawnSync(process.execPath, [compiled, ...process.argv.slice(2)], {
      stdio: 'inherit',
    });
    process.exitCode = r.status ?? 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  process.exit();
}
