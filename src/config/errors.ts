/** A configuration problem: each issue names the key (or environment variable) and what is wrong. */
export class ConfigError extends Error {
  readonly issues: string[];
  constructor(issues: string | string[], prefix = '') {
    const list = Array.isArray(issues) ? issues : [issues];
    super(prefix + list.join('; '));
    this.name = 'ConfigError';
    this.issues = list;
  }
}
