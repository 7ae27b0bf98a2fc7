import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'desk:isPublic';

/** Marks a route as reachable without an API key (health checks only). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
