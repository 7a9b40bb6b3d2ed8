/** The configuration reference is generated from the schema and checked in: it must be current and complete. */
import { readFileSync } from 'node:fs';
import { configKeys, configReference, REFERENCE_PATH } from '../../scripts/config-reference';

test('docs/configuration.md is what scripts/config-reference.ts generates from the schema', () => {
  // On failure: npx tsx scripts/config-reference.ts
  expect(readFileSync(REFERENCE_PATH, 'utf8')).toBe(configReference());
});

test('every configuration key has a description', () => {
  const missing = configKeys()
    .filter((k) => k.description.trim() === '')
    .map((k) => k.key);
  expect(missing).toEqual([]);
});
