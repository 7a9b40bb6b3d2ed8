/** Reported in heartbeats, `--version` and the replay report. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const VERSION: string = (require('../package.json') as { version: string }).version;
/** Version of the `replay --json` report layout. */
export const REPORT_VERSION = 1;
