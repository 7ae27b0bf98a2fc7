import Decimal from 'decimal.js';
import { z } from 'zod';

/**
 * Money and quantities are never JavaScript numbers: decimal strings on the wire, `numeric` in
 * PostgreSQL, `Decimal` in code. One configured Decimal constructor for the whole platform.
 */
export const Money = Decimal.clone({
  precision: 40,
  rounding: Decimal.ROUND_HALF_EVEN,
  toExpNeg: -30,
  toExpPos: 40,
});
export type Money = Decimal;

const DECIMAL_RE = /^-?(0|[1-9]\d{0,19})(\.\d{1,18})?$/;
const UNSIGNED_DECIMAL_RE = /^(0|[1-9]\d{0,19})(\.\d{1,18})?$/;

/** A decimal string such as "0.015" or "-12.5": no exponent, no leading zeros, at most 18 decimals. */
export const decimalString = z.string().regex(DECIMAL_RE, 'must be a decimal string such as "12.5"');

/** A non-negative decimal string. Zero is allowed here; positivity is a domain rule, checked with a reason code. */
export const unsignedDecimalString = z
  .string()
  .regex(UNSIGNED_DECIMAL_RE, 'must be a non-negative decimal string such as "0.5"');

export function money(value: string | Decimal): Decimal {
  return new Money(value);
}

/** Canonical wire form: plain notation, trailing zeros removed. */
export function toWire(value: Decimal): string {
  return new Money(value).toFixed();
}

/** Number of digits after the decimal point in a decimal string ("1.230" has 3). */
export function decimalPlaces(value: string): number {
  const dot = value.indexOf('.');
  return dot < 0 ? 0 : value.length - dot - 1;
}
