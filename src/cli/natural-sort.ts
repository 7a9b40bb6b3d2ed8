/** Orders names as people read them: num_2 before num_10. */
const collator = new Intl.Collator('en', { numeric: true });

export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b);
}
