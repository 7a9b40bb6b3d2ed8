/** One decoder for both wire forms; picks binary when the fw-model header is present. */
import { FeatureEvent, EventOrigin, MessageHeaders } from '../core/event';
import { Rejection } from '../core/rejection';
import { LimitsConfig } from '../config/schema';
import { decodeJson, DecodeContext, reject } from './json';
import { decodeBinary, isBinaryMessage } from './binary';
import { VectorShapes } from './vector-shapes';

export class Decoder {
  readonly ctx: DecodeContext;
  /** `now`: the consumer's clock (epoch ms) that limits.maxFutureSeconds is measured against. */
  constructor(
    limits: LimitsConfig,
    private readonly format: 'json' | 'binary' | 'auto' = 'auto',
    now: () => number = Date.now,
  ) {
    // As many (model, vector) shapes as one window can admit (src/analyzers/cardinality.ts).
    this.ctx = {
      limits,
      shapes: new VectorShapes(limits.vectorLengths, limits.maxModels * limits.maxVectorNames),
      now,
      knownFeatures: new Set(),
      featureSlots: [],
      lastModel: '',
      lastVersion: '',
    };
  }

  decode(
    value: Buffer | string | null,
    headers: MessageHeaders | undefined,
    origin: EventOrigin,
    fallbackTs: number,
  ): FeatureEvent | Rejection {
    if (value === null || value === undefined) return reject('not_json', 'empty (tombstone) message', origin);
    const binary = this.format === 'binary' || (this.format === 'auto' && isBinaryMessage(headers));
    if (binary) {
      if (typeof value === 'string') value = Buffer.from(value);
      return decodeBinary(value, headers ?? {}, origin, fallbackTs, this.ctx);
    }
    return decodeJson(value, origin, fallbackTs, this.ctx);
  }
}

export { encodeBinary, BINARY_HEADERS } from './binary';
