import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  checkpointProblem,
  generateSigningKey,
  parseAnchor,
  readCheckpoints,
  verifyStoredChain,
  type ChainHead,
  type Checkpoint,
} from '@desk/audit-chain';
import { ConfigError } from '@desk/platform';
import { loadAuditCliConfig } from './config';
import { withDatabase } from './modules/audit-log/audit-log.repository';

/** Exit codes: 0 the chain verifies, 1 it was tampered with, 2 usage or configuration error. */
const OK = 0;
const TAMPERED = 1;
const USAGE = 2;

const USAGE_TEXT = `usage:
  audit verify [--from N] [--to N] [--head SEQ:HASH]... [--checkpoints FILE]
                                     verify the audit chain in DATABASE_URL (services may be stopped);
                                     --head and --checkpoints (JSON lines, as printed by \`audit checkpoints\`)
                                     are heads held outside the database: the chain must contain each
  audit checkpoints                  print the signed checkpoints, oldest first, one JSON object a line
  audit keygen                       print a new AUDIT_SIGNING_KEY line (and its public key as a comment)
`;

class UsageError extends Error {}

/** The externally held heads of a checkpoint file: one signed checkpoint (JSON) a line, blank lines skipped. */
function checkpointFile(path: string, trustedKeys: readonly KeyObject[]): ChainHead[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`--checkpoints: cannot read ${path}`);
  }
  const heads: ChainHead[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let cp: Partial<Checkpoint>;
    try {
      cp = JSON.parse(line) as Partial<Checkpoint>;
    } catch {
      throw new UsageError(`--checkpoints: line ${i + 1} is not JSON`);
    }
    const head = parseAnchor(`${String(cp.seq)}:${String(cp.hash)}`);
    if (!head) throw new UsageError(`--checkpoints: line ${i + 1} has no seq and hash`);
    // A signed line is held to its signature (under the configured keys); an unsigned head is taken as given.
    if (cp.signature !== undefined) {
      const problem = checkpointProblem(
        {
          ...head,
          signature: String(cp.signature),
          keyId: String(cp.keyId),
          publicKey: String(cp.publicKey),
          createdAt: '',
        },
        trustedKeys,
      );
      if (problem) throw new UsageError(`--checkpoints: line ${i + 1}: ${problem}`);
    }
    heads.push(head);
  });
  return heads;
}

type Out = (line: string) => void;

async function verify(args: string[], out: Out, err: Out): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      head: { type: 'string', multiple: true },
      checkpoints: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  for (const name of ['from', 'to'] as const) {
    const value = values[name];
    if (value !== undefined && !/^\d{1,18}$/.test(value)) {
      err(`--${name} must be a sequence number`);
      return USAGE;
    }
  }
  const anchors: ChainHead[] = [];
  for (const text of values.head ?? []) {
    const head = parseAnchor(text);
    if (!head) {
      err('--head must be <seq>:<hash> (a sequence number, a colon, 64 lower-case hex digits)');
      return USAGE;
    }
    anchors.push(head);
  }
  const config = loadAuditCliConfig();
  if (values.checkpoints !== undefined)
    anchors.push(...checkpointFile(values.checkpoints, config.trustedKeys));
  if (config.trustedKeys.length === 0) {
    err(
      'warning: neither AUDIT_SIGNING_PUBLIC_KEY nor AUDIT_SIGNING_KEY is set: checkpoint signatures are ' +
        'checked only against the keys stored beside them',
    );
  }
  const result = await withDatabase(config.databaseUrl, (query) =>
    verifyStoredChain(query, {
      from: values.from,
      to: values.to,
      trustedKeys: config.trustedKeys,
      anchors,
    }),
  );
  const range = values.from || values.to ? ` (range ${values.from ?? '1'}..${values.to ?? 'end'})` : '';
  if (!result.ok) {
    out(`TAMPERED${range}: first bad seq ${result.firstBadSeq} (${result.kind}): ${result.reason}`);
    return TAMPERED;
  }
  const cp = result.latestCheckpoint;
  out(
    `ok${range}: ${result.checked} records verified, head seq ${result.head.seq} hash ${result.head.hash}; ` +
      (cp
        ? `latest checkpoint seq ${cp.seq} signed by key ${cp.keyId} at ${cp.createdAt}`
        : 'no checkpoint yet') +
      (anchors.length ? `; ${anchors.length} externally held head(s) found in the chain` : ''),
  );
  return OK;
}

/** Every signed checkpoint as one JSON line, oldest first: what to hand to auditors and to `--checkpoints`. */
async function checkpoints(args: string[], out: Out): Promise<number> {
  parseArgs({ args, options: {}, strict: true, allowPositionals: false });
  const config = loadAuditCliConfig();
  await withDatabase(config.databaseUrl, async (query) => {
    let afterSeq: string | undefined;
    for (;;) {
      const page = await readCheckpoints(query, { afterSeq, limit: 500 });
      for (const cp of page) out(JSON.stringify(cp));
      const last = page[page.length - 1];
      if (!last || page.length < 500) return;
      afterSeq = last.seq;
    }
  });
  return OK;
}

function keygen(out: Out): number {
  const key = generateSigningKey();
  out(`AUDIT_SIGNING_KEY=${key.privateKey}`);
  out(`# public key ${key.keyId}, for verifiers: AUDIT_SIGNING_PUBLIC_KEY=${key.publicKey}`);
  return OK;
}

export async function main(argv: string[], out: Out, err: Out): Promise<number> {
  const [command, ...rest] = argv[0] === 'audit' ? argv.slice(1) : argv;
  try {
    switch (command) {
      case 'verify':
        return await verify(rest, out, err);
      case 'checkpoints':
        return await checkpoints(rest, out);
      case 'keygen':
        return keygen(out);
      default:
        err(USAGE_TEXT);
        return USAGE;
    }
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) err(error.message);
    else if (
      error instanceof TypeError &&
      'code' in error &&
      String(error.code).startsWith('ERR_PARSE_ARGS')
    ) {
      err(`${error.message}\n${USAGE_TEXT}`);
    } else err(`audit ${command}: ${error instanceof Error ? error.message : String(error)}`);
    return USAGE;
  }
}

if (require.main === module) {
  void main(
    process.argv.slice(2),
    (line) => process.stdout.write(`${line}\n`),
    (line) => process.stderr.write(`${line}\n`),
  ).then((code) => {
    process.exitCode = code;
  });
}
