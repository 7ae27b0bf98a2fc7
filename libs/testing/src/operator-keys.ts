import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './infra';

/** A key as its holder makes it, with the console (`desk key generate`): no database, nothing registered. */
export function generateHolderKey(): { key: string; keyId: string; digest: string } {
  const printed = execFileSync(
    process.execPath,
    [join(REPO_ROOT, 'apps', 'gateway', 'dist', 'cli.js'), 'key', 'generate'],
    {
      encoding: 'utf8',
    },
  );
  return JSON.parse(printed) as { key: string; keyId: string; digest: string };
}

/**
 * As a desk in setup does it over the API: the admin creates an operator, the holder generates a key, the
 * admin registers its id and digest. Returns the holder's key. (Once setup is closed both steps wait for
 * approvers; this helper is for the setup phase.)
 */
export async function issueOperatorKey(
  baseUrl: string,
  adminKey: string,
  name: string,
  roles: string[],
): Promise<{ key: string; keyId: string; operatorId: string }> {
  const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
  const created = await fetch(`${baseUrl}/v1/operators`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name }),
  });
  if (created.status !== 201) throw new Error(`could not create operator ${name}: ${await created.text()}`);
  const operatorId = ((await created.json()) as { id: string }).id;
  const holder = generateHolderKey();
  const registered = await fetch(`${baseUrl}/v1/operators/${operatorId}/keys`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ roles, keyId: holder.keyId, digest: holder.digest, label: 'e2e key' }),
  });
  if (registered.status !== 201)
    throw new Error(`could not register a key for ${name}: ${await registered.text()}`);
  return { key: holder.key, keyId: holder.keyId, operatorId };
}
