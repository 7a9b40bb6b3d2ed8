/**
 * Constraints suggested by a reference (`featurewatch baseline --suggest-constraints`), the way
 * whylogs and Evidently derive tests from reference data: a numeric feature's observed range, a
 * categorical feature's categories when the reference kept all of them, `required` when every
 * reference event carried the feature, and a missing-rate ceiling of 1.5 × the reference's rate.
 * A starting point to edit, not a verdict: a range from a sample can be narrower than the data.
 */
import { ConstraintConfig } from '../config/schema';
import { ReferenceProfile } from '../drift';

const ceil3 = (x: number) => Math.min(1, Math.max(0, Math.ceil(x * 1000 - 1e-9) / 1000));

export function suggestConstraints(model: string, profile: ReferenceProfile, events: number): ConstraintConfig[] {
  const out: ConstraintConfig[] = [];
  for (const [feature, ref] of Object.entries(profile.features).sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    // Events that carried the feature (a value, a null or a value of the other kind).
    const present = ref.observed + ref.missing + ref.mismatched;
    const absentOrNull = events > 0 ? (events - ref.observed - ref.mismatched) / events : 0;
    const c: ConstraintConfig = { model, feature };
    if (ref.kind === 'numeric' && ref.min !== null && ref.max !== null) {
      c.min = ref.min;
      c.max = ref.max;
    }
    // Only when the reference kept every category it saw (none folded into 'other').
    if (ref.kind === 'categorical' && ref.categories.length > 0 && ref.counts[ref.categories.length] === 0) c.allowed = [...ref.categories];
    if (events > 0 && present >= events) c.required = true;
    c.maxMissingRate = ceil3(1.5 * Math.max(0, absentOrNull));
    out.push(c);
  }
  return out;
}
