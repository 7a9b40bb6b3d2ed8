// Loaded with `node --require` into a benchmarked process: prints its resident set every
// FW_BENCH_RSS_EVERY_MS (default 2000) and its peak (VmHWM, from getrusage) at exit, to stderr as
// `[rss] <ms since start> <rss MB>` and `[rss-peak] <MB>`.
/* global setInterval */
'use strict';
const t0 = Date.now();
const every = Number(process.env.FW_BENCH_RSS_EVERY_MS || 2000);
const timer = setInterval(() => {
  process.stderr.write(`[rss] ${Date.now() - t0} ${Math.round(process.memoryUsage().rss / 1048576)}\n`);
}, every);
timer.unref();
process.on('exit', () => process.stderr.write(`[rss-peak] ${Math.round(process.resourceUsage().maxRSS / 1024)}\n`));
