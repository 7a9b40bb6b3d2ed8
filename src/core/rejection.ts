/**
 * Every input the decoder refuses gets one of these named reasons. They are the label values of
 * the `featurewatch_rejected_total{reason}` metric, the `reason` column of `fw_rejections`, and
 * the `fw-reason` header on dead-lettered messages, so they are part of the public contract.
 */
export const REJECTION_REASONS = [
  'not_json',
  'not_object',
  'missing_model',
  'missing_input_id',
  'bad_field_type',
  'bad_timestamp',
  'non_finite_vector',
  'vector_length_mismatch',
  'vector_too_long',
  'oversized_message',
  'too_many_features',
  'bad_feature_value',
  'bad_lookup',
  'bad_binary_length',
  'late_event',
] as const;

export type RejectionReason = (typeof REJECTION_REASONS)[number];

export interface Rejection {
  reason: RejectionReason;
  /** Human-readable detail: which field, which value, what limit. */
  detail: string;
  /** Model name when it could be read, else ''. */
  model: string;
  origin: { topic: string; partition: number; offset: number };
}

export function isRejection(x: unknown): x is Rejection {
  return typeof x === 'object' && x !== null && 'reason' in x && 'detail' in x;
}
