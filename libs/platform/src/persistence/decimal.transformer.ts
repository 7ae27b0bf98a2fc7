import type { ValueTransformer } from 'typeorm';
import { money, toWire, type Money } from '@desk/contracts';

/** `numeric` column ⇄ Decimal. PostgreSQL returns numeric as a string, so no precision is lost. */
export const decimalTransformer: ValueTransformer = {
  to: (value: Money | null | undefined) => (value === null || value === undefined ? value : toWire(value)),
  from: (value: string | null) => (value === null ? null : money(value)),
};
