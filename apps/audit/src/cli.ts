import { parseArgs } from 'node:util';
import { generateSigningKey, verifyStoredChain } from '@desk/audit-chain';
import { ConfigError } from '@desk/platform';
import { loadAuditCliConfig } from './config';
import { withDatabase } from './modules/audit-log/audit-log.repository';

/** Exit codes: 0 the chain verifies, 1 it was tampered with, 2 usage or configuration error. */
const OK = 0;
const TAMPERED = 1;
const USAGE = 2;

const USAGE_TEXT = `usage:
  audit verify [--from N] [--to N]   verify the audit chain in DATABASE_URL (services may be stopped)
  audit keygen                       print a new AUDIT_SIGNING_KEY line (and its public key as a comment)
`;

type Out = (line: string) => void;

async function verify(args: string[], out: Out, err: Out): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { from: { type: 'string' }, to: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && !/^\d{1,18}$/.test(value)) {
      err(`--${name} must be a sequence number`);
      return USAGE;
    }
  }
  const config = loadAuditCliConfig();
  if (config.trustedKeys.length === 0) {
    err(
      'warning: neither AUDIT_SIGNING_PUBLIC_KEY nor AUDIT_SIGNING_KEY is set: checkpoint signatures are ' +
        'checked only against the keys stored beside them',
    );
  }
  const result = await withDatabase(config.databaseUrl, (query) =>
    verifyStoredChain(query, { from: values.from, to: values.to, trustedKeys: config.trustedKeys }),
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
        : 'no checkpoint yet'),
  );
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
      case 'keygen':
        return keygen(out);
      default:
        err(USAGE_TEXT);
        return USAGE;
    }
  } catch (error) {
    if (error instanceof ConfigError) err(error.message);
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
