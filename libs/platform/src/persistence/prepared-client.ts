import { createHash } from 'node:crypto';
import { Client } from 'pg';

/** Distinct statements prepared per process, at most (our SQL is static text: a few hundred). */
const MAX_PREPARED = 2000;
/** Text → statement name; '' for a text never prepared (its result type changed under a prepared plan). */
const names = new Map<string, string>();
/**
 * A star projection's result type changes when a migration adds a column while this process runs (a rolling
 * deploy); PostgreSQL then refuses the prepared plan (SQLSTATE 0A000). Such statements run unnamed.
 */
const STAR_PROJECTION = /\b(SELECT|RETURNING)\s+\*|\.\*/i;
/** SQLSTATE 0A000 with this message: a prepared statement's result type changed (DDL while it was cached). */
const RESULT_TYPE_CHANGED = /cached plan must not change result type/;

/**
 * The statement name a parameterised SQL text is prepared under: the same text, the same name, on every
 * connection. Undefined past MAX_PREPARED distinct texts (generated SQL must not grow every connection's
 * cache without bound): such a statement runs unnamed, as before.
 */
export function preparedName(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_PREPARED) {
    name = STAR_PROJECTION.test(text)
      ? ''
      : `desk_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name || undefined;
}

/** From now on the text runs unnamed (the call that failed fails; the next one works). */
function neverPrepare(text: string): void {
  names.set(text, '');
}

/**
 * A node-postgres client that prepares every parameterised statement once per connection (docs/adr/0024):
 * PostgreSQL then parses and plans it once, not on every call; on the order path each order runs about 130
 * small statements, and parsing and planning them was about a third of their cost. TypeORM passes
 * `extra.Client` to pg's Pool, so every connection of a service's pool is one of these. Statements without
 * parameters (BEGIN, COMMIT, DDL, LISTEN) run as before.
 */
export class PreparedStatementClient extends Client {
  // pg's query() is heavily overloaded; only the (text, values[, callback]) form is rewritten.
  override query(...args: unknown[]): never {
    const [text, values, callback] = args;
    if (typeof text === 'string' && Array.isArray(values) && values.length > 0) {
      const name = preparedName(text);
      if (name !== undefined) {
        const config = { name, text, values };
        if (typeof callback === 'function')
          return (super.query as (...a: unknown[]) => unknown)(config, callback) as never;
        const result = (super.query as (...a: unknown[]) => Promise<unknown>)(config);
        return result.catch((error: unknown) => {
          if (error instanceof Error && RESULT_TYPE_CHANGED.test(error.message)) neverPrepare(text);
          throw error;
        }) as never;
      }
    }
    return (super.query as (...a: unknown[]) => unknown)(...args) as never;
  }
}
