#!/usr/bin/env node
// Keeps package-lock.json usable by `npm ci` on every machine: chdb lists one engine package per
// platform as optional dependencies, and the registry here serves only linux-x64. npm ci wants a
// lock entry for each of them; an entry with version, os and cpu (and no tarball) is skipped by
// platform without a download. Run after `npm install` changes the lock: node scripts/lock-platforms.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const chdb = lock.packages['node_modules/chdb'];
let added = 0;
for (const [name, version] of Object.entries(chdb?.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]?.version) continue;
  const m = /lib-(darwin|linux|win32)-(x64|arm64)(?:-(gnu|musl))?$/.exec(name);
  if (!m) throw new Error(`cannot tell the platform of ${name}`);
  lock.packages[key] = {
    version,
    cpu: [m[2]],
    ...(m[3] ? { libc: [m[3] === 'gnu' ? 'glibc' : 'musl'] } : {}),
    license: chdb.license,
    optional: true,
    os: [m[1]],
  };
  added++;
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)));
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
console.log(added ? `added ${added} platform entries for chdb` : 'lock already complete');
