/**
 * The validated unit that flows through the pipeline. Decoders (src/decode) turn Kafka message
 * values or NDJSON lines into FeatureEvents or Rejections; analyzers only ever see FeatureEvents.
 */

/** The prediction is watched like a feature under this name. */
export const PREDICTION_FEATURE = '__prediction__';

/** Kafka message headers as kafkajs hands them over (binary messages carry their metadata here). */
export type MessageHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** Numbers are numeric features; strings and booleans categorical; null is missing. */
export type FeatureValue = number | string | boolean | null;

/** One embedding-table lookup: which row `id` landed on in a table of `size` rows. */
export interface Lookup {
  id: string;
  row: number;
  size: number;
}

/** Where an event came from; used for offsets (Kafka) and error messages (files). */
export interface EventOrigin {
  topic: string;
  partition: number;
  /** Kafka offset, or line number for files. */
  offset: number;
}

export interface FeatureEvent {
  model: string;
  /** '' when the producer sent none. */
  modelVersion: string;
  inputId: string;
  /** Event time, epoch milliseconds. */
  ts: number;
  features: Record<string, FeatureValue>;
  /** Named dense vectors, already checked finite and of the expected length. */
  vectors: Record<string, Float32Array>;
  prediction?: number | string;
  label?: string | number | boolean;
  lookups?: Record<string, Lookup>;
  origin: EventOrigin;
}
