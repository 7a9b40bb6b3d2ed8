/**
 * Counts rejections per minute, model and reason (with one sample detail) for the `rejections`
 * table. Rejected input can carry any model name, so at most MAX_KEYS (minute, model, reason)
 * entries are kept per flush; further models count under the model `__overflow__`.
 */
import { Rejection } from '../core/rejection';
import { TableRows, pushRows, chTime, Row } from '../store/rows';
import { safeText } from '../core/text';

const MAX_KEYS = 10_000;
const OVERFLOW = '__overflow__';

export class RejectionTally {
  private counts = new Map<string, { minute: number; model: string; reason: string; count: number; sample: string }>();

  add(r: Rejection, nowMs: number): void {
    const minute = Math.floor(nowMs / 60000) * 60000;
    let model = r.model;
    let key = `${minute}\u0000${model}\u0000${r.reason}`;
    let c = this.counts.get(key);
    if (!c && this.counts.size >= MAX_KEYS) {
      model = OVERFLOW;
      key = `${minute}\u0000${model}\u0000${r.reason}`;
      c = this.counts.get(key);
    }
    if (c) c.count++;
    else this.counts.set(key, { minute, model, reason: r.reason, count: 1, sample: safeText(r.detail, 300) });
  }

  drain(out: TableRows): void {
    const rows: Row[] = [...this.counts.values()].map((c) => ({
      minute: chTime(c.minute).slice(0, 19),
      model: c.model,
      reason: c.reason,
      count: c.count,
      sample: c.sample,
    }));
    this.counts = new Map();
    pushRows(out, 'rejections', rows);
  }
}
