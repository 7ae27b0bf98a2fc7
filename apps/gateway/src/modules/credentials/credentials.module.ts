import { Module } from '@nestjs/common';
import { ApiKeysRepository } from '../keys/api-keys.repository';
import { CredentialCache } from './credential-cache.service';

/**
 * Credentials as authentication reads them: the key table and the cache in front of it. Its own module so
 * that both writers of credentials (keys and operators) can empty this instance's cache after a commit.
 */
@Module({
  providers: [ApiKeysRepository, CredentialCache],
  exports: [ApiKeysRepository, CredentialCache],
})
export class CredentialsModule {}
