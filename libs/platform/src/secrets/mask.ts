/**
 * Keeping secrets out of what the desk prints. Two nets: by name (a field called like a secret is masked
 * wherever it sits) and by value (every secret value the process has loaded is replaced wherever it appears
 * in a log line, whatever the field or message carries it).
 */

/** Field names that hold secrets (by their ending: `apiKeyId` is not one): masked at any depth in logs and config dumps. */
export const SECRET_KEY_RE =
  /(password|passwd|secret|secret_?id|role_?id|token|api_?key|private_?key|signing_?key|authorization|cookie|dsn|credentials?)$/i;

const REDACTED = '[redacted]';
const known = new Set<string>();

/** Remembers a loaded secret value so that it is scrubbed from every log line (short values are ignored). */
export function rememberSecret(value: string | undefined): void {
  if (value && value.length >= 6) known.add(value);
}

/** At most the last 4 characters, and only of a long value: `****abcd`. */
export function maskSecret(value: string | undefined): string {
  if (!value) return '';
  if (/^\*{4}.{0,4}$/.test(value)) return value; // already masked (a dump that is then logged)
  return value.length >= 16 ? `****${value.slice(-4)}` : '****';
}

/** A URL with its password masked (redis://user:****@host). Other text is returned as it is. */
function maskUrlPassword(text: string): string {
  return text.replace(
    /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@/\s]+)@/gi,
    (_m, head: string) => `${head}****@`,
  );
}

/** Replaces every known secret value inside `text`. */
export function scrubText(text: string): string {
  let out = text;
  for (const value of known) if (out.includes(value)) out = out.split(value).join(REDACTED);
  return maskUrlPassword(out);
}

/**
 * A copy of `value` safe to print: fields named like secrets masked (at any depth), URL passwords and known
 * secret values scrubbed from strings. Cycles and depth are bounded.
 */
export function scrubDeep(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value) || depth > 12) return '[…]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1, seen));
  if (value instanceof Error) {
    // As pino's error serializer would show it (type, message, stack, own fields such as code), scrubbed.
    return {
      type: value.name,
      message: scrubText(value.message),
      ...(value.stack ? { stack: scrubText(value.stack) } : {}),
      ...scrubFields(value, depth, seen),
    };
  }
  if (!isPlain(value)) return value;
  return scrubFields(value, depth, seen);
}

function scrubFields(value: object, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const named = SECRET_KEY_RE.test(k) && v !== undefined && v !== null && v !== '';
    out[k] = named ? mask(v) : scrubDeep(v, depth + 1, seen);
  }
  return out;
}

function mask(v: unknown): string {
  return typeof v === 'string' ? maskSecret(v) : REDACTED;
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A configuration object as it may be shown (secrets masked, URL passwords hidden): a config dump. */
export function maskConfig(config: Record<string, unknown>): Record<string, unknown> {
  return scrubDeep(config) as Record<string, unknown>;
}
