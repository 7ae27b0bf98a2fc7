export const PLATFORM_CONFIG = Symbol('PLATFORM_CONFIG');
export const SERVICE_NAME = Symbol('SERVICE_NAME');
/** The service's secrets (libs/platform/src/secrets): their source, and current values that rotate. */
export const SECRETS = Symbol('SECRETS');
