// ESLint (typescript-eslint) plus the layer rule: a module may import only from its own layer or
// the layers below it, so vocabulary lives low and nothing reaches upward.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Bottom to top. A directory under src/ may import from itself and from every earlier entry. */
const LAYERS = [
  ['core', 'version.ts'],
  ['config', 'ops'],
  ['store'],
  ['decode', 'window', 'drift', 'collisions'],
  ['analyzers', 'references'],
  ['pipeline'],
  ['sources', 'alerts'],
  ['jobs'],
  ['app.ts', 'daemon.ts', 'demo', 'cli', 'cli.ts'],
];

function layerRules() {
  const configs = [];
  LAYERS.forEach((layer, i) => {
    const above = LAYERS.slice(i + 1).flat();
    if (above.length === 0) return;
    for (const dir of layer) {
      const files = dir.endsWith('.ts') ? [`src/${dir}`] : [`src/${dir}/**/*.ts`];
      const patterns = above.flatMap((d) => {
        const name = d.replace(/\.ts$/, '');
        return [`../${name}`, `../${name}/*`, `./${name}`, `./${name}/*`, `../../${name}`, `../../${name}/*`];
      });
      configs.push({
        files,
        rules: {
          'no-restricted-imports': [
            'error',
            { patterns: [{ group: [...new Set(patterns)], message: `layer rule: src/${dir} may not import from a layer above it (see eslint.config.mjs)` }] },
          ],
        },
      });
    }
  });
  return configs;
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.venv/**', '.venv-peers/**', '.cache/**', 'data/**', 'scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', 'scripts/**/*.mjs'],
    languageOptions: { globals: { URL: 'readonly', require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  ...layerRules(),
);
