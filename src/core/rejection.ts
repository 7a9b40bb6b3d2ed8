/**
 * Every input the decoder refuses gets one of these named reasons. They are the label values of
 * the `featurewatch_rejected_total{reason}` metric, the `reason` column of the `rejections` table, and
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
  // A string in a name or value is not well-formed Unicode (lone surrogate, or header bytes that are not UTF-8).
  'bad_unicode',
  // model, model_version, input_id, a vector, table or feature name, or a lookup id is longer than its limit.
  'name_too_long',
  // A number outside what its column and the statistics hold (limits.maxAbsNumber, safe integers for lookups).
  'number_out_of_range',
  // Event time more than limits.maxFutureSeconds ahead of the consumer's clock.
  'future_event',
  'empty_vector',
  'too_many_vectors',
  'too_many_lookups',
  // Processing the message threw (a bug): counted and dead-lettered instead of stopping the stream.
  'internal_error',
  // Rows of a flush that ClickHouse refused for their content: isolated and counted, the rest stored.
  'store_rejected',
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
