import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { PlatformConfig } from '../config/load-config';
import { PLATFORM_CONFIG, SECRETS } from '../config/tokens';
import { maskConfig } from '../secrets/mask';
import type { Secrets } from '../secrets/secrets';

/**
 * At boot, one log line with the configuration the service runs with (a config dump for the operator), its
 * secrets masked (at most their last 4 characters, URL passwords hidden) and where the secrets came from.
 */
@Injectable()
export class ConfigReport implements OnApplicationBootstrap {
  private readonly logger = new Logger(ConfigReport.name);

  constructor(
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    @Inject(SECRETS) private readonly secrets: Secrets,
  ) {}

  onApplicationBootstrap(): void {
    this.logger.log({
      msg: 'configuration (secrets masked)',
      config: maskConfig({ ...this.config }),
      secrets: this.secrets.status(),
    });
  }
}
