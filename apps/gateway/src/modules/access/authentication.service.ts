import { Inject, Injectable } from '@nestjs/common';
import type { Actor } from '@desk/contracts';
import { CredentialCache } from '../credentials/credential-cache.service';
import { digestOf, digestsMatch, keyIdOf, parseApiKey } from './api-key';
import type { Role } from './role';

export type AuthFailureReason =
  'missing' | 'malformed' | 'unknown_key' | 'revoked' | 'expired' | 'operator_disabled';

export type Authentication =
  | {
      ok: true;
      actor: Actor & { keyId: string };
      /** The key holder's name as of this request (the operator is active, or authentication fails). */
      operatorName: string;
      roles: Role[];
      expiresAt: Date | null;
    }
  | { ok: false; reason: AuthFailureReason; keyId?: string };

/**
 * `Authorization: Bearer <key>`. The key is looked up by its derived id (from memory while the gateway
 * listens for changes: a revocation, expiry change or disabled operator empties every instance's cache when
 * it commits, CredentialCache) and compared in constant time on 32-byte digests. The caller learns nothing
 * about why a key failed: that is for the audit log.
 */
@Injectable()
export class AuthenticationService {
  constructor(@Inject(CredentialCache) private readonly keys: CredentialCache) {}

  async authenticate(header: string | undefined): Promise<Authentication> {
    if (header === undefined || header === '') return { ok: false, reason: 'missing' };
    const match = header.length <= 200 ? /^Bearer (\S+)$/.exec(header) : null;
    const key = match?.[1] ? parseApiKey(match[1]) : undefined;
    if (!key) return { ok: false, reason: 'malformed' };
    const keyId = keyIdOf(key);
    const credential = await this.keys.credential(keyId);
    if (!digestsMatch(digestOf(key), credential?.digest)) return { ok: false, reason: 'unknown_key' };
    if (!credential) return { ok: false, reason: 'unknown_key' };
    if (credential.status === 'revoked') return { ok: false, reason: 'revoked', keyId };
    if (credential.expired) return { ok: false, reason: 'expired', keyId };
    if (credential.operatorStatus !== 'active') return { ok: false, reason: 'operator_disabled', keyId };
    return {
      ok: true,
      actor: { type: 'operator', id: credential.operatorId, keyId },
      operatorName: credential.operatorName,
      roles: credential.roles,
      expiresAt: credential.expiresAt,
    };
  }
}
