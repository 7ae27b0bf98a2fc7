import { SetMetadata } from '@nestjs/common';
import type { Role } from './role';

export const REQUIRED_ROLE = 'desk:requiredRole';
export const TIGHT_THROTTLE = 'desk:tightThrottle';

/** The role an endpoint needs. Every endpoint declares one (or @Public); a test enforces it. */
export const RequireRole = (role: Role): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_ROLE, role);

/** Marks an endpoint with the tighter per-key limit of order submission (THROTTLE_ORDER_LIMIT). */
export const OrderSubmissionLimit = (): MethodDecorator => SetMetadata(TIGHT_THROTTLE, true);
