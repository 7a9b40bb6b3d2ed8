/**
 * Text rules shared by the decoder, the rejection path, the CLI and the metrics: well-formed
 * Unicode (ClickHouse refuses lone surrogates and UTF-8 cannot encode them), bounded lengths that
 * never cut a surrogate pair in two, and control characters made visible before they reach a
 * terminal or a metrics scrape.
 */

type NativeWellFormed = { isWellFormed?: () => boolean; toWellFormed?: () => string };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** True when `s` has no lone surrogate, i.e. it round-trips through UTF-8 unchanged. */
export function isWellFormed(s: string): boolean {
  const native = (s as unknown as NativeWellFormed).isWellFormed;
  if (native) return native.call(s);
  LONE_SURROGATE.lastIndex = 0;
  return !LONE_SURROGATE.test(s);
}

/** `s` with every lone surrogate replaced by U+FFFD (what a UTF-8 encoder would write). */
export function toWellFormed(s: string): string {
  const native = (s as unknown as NativeWellFormed).toWellFormed;
  if (native) return native.call(s);
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

/** At most `max` UTF-16 code units of `s`; a surrogate pair at the cut is dropped whole. */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  const code = s.charCodeAt(max - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** Clipped and well-formed: safe to store, log or send in a header whatever `s` was. */
export function safeText(s: string, max: number): string {
  return toWellFormed(clip(s, max));
}

// C0 controls, DEL, C1 controls, and the bidirectional overrides that reorder what a terminal shows.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function hex(c: string): string {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/**
 * For terminal output: control characters (ESC, BEL, NUL, newline, …) become visible `\xNN`
 * escapes, so a name can neither drive the terminal nor break a table's layout.
 */
export function escapeControl(s: string): string {
  CONTROL.lastIndex = 0;
  return CONTROL.test(s) ? s.replace(CONTROL, hex) : s;
}

/** A name quoted for a human-readable detail: bounded, well-formed, controls escaped, marked when cut. */
export function quoted(s: string, max = 60): string {
  return `"${escapeControl(safeText(s, max))}${s.length > max ? '…' : ''}"`;
}

/** Longest label value a name contributes to /metrics. */
export const MAX_LABEL_LENGTH = 256;

/**
 * A name as a Prometheus label value: well-formed, bounded, control characters escaped (the
 * client library escapes only backslash, quote and newline; the rest would reach a scrape raw).
 */
export function labelValue(s: string, max = MAX_LABEL_LENGTH): string {
  return escapeControl(safeText(s, max));
}

/** Whole terminal output: every control character escaped except the line feeds between lines. */
export function forTerminal(text: string): string {
  return text.split('\n').map(escapeControl).join('\n');
}
