/** One decoder for both wire forms; picks binary when the fw-model header is present. */
import { FeatureEvent, EventOrigin, MessageHeaders } from '../core/event';
import { Rejection } from '../core/rejection';
import { LimitsConfig } from '../config/schema';
import { decodeJson, DecodeContext } from './json';
import { decodeBinary, isBinaryMessage } from './binary';
import { VectorShapes } from './vector-shapes';

export class Decoder {
  readonly ctx: DecodeContext;
  constructor(
    limits: LimitsConfig,
    private readonly format: 'json' | 'binary' | 'auto' = 'auto',
  ) {
    // As many (model, vector) shapes as one window can admit (src/analyzers/cardinality.ts).
    this.ctx = { limits, shapes: new VectorShapes(limits.vectorLengths, limits.maxModels * limits.maxVectors) };
  }

  decode(
    value: Buffer | string | null,
    headers: MessageHeaders | undefined,
    origin: EventOrigin,
    fallbackTs: number,
  ): FeatureEvent | Rejection {
    if (value === null) return { reason: 'not_json', detail: 'empty (tombstone) message', model: '', origin };
    const binary = this.format === 'binary' || (this.format === 'auto' && isBinaryMessage(headers));
    if (binary) {
      if (typeof value === 'string') value = Buffer.from(value);
      return decodeBinary(value, headers ?? {}, origin, fallbackTs, this.ctx);
    }
    return decodeJson(value, origin, fallbackTs, this.ctx);
  }
}

export { encodeBinary, BINARY_HEADERS } from './binary';
