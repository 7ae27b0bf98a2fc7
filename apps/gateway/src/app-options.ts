import type { BootstrapOptions } from '@desk/platform';
import type { GatewayConfig } from './config';

/** How the gateway's HTTP app is built: shared by main.ts and the tests, so tests see the real thing. */
export function gatewayAppOptions(config: GatewayConfig): Omit<BootstrapOptions, 'host' | 'port'> {
  return {
    service: 'gateway',
    bodyLimitBytes: config.GATEWAY_BODY_LIMIT_BYTES,
    openApi: {
      title: 'Trading desk API',
      description:
        'The only door to the platform. Authenticate with `Authorization: Bearer <key>`. Money is always a decimal string.',
      version: '1',
      bearer: true,
    },
  };
}
