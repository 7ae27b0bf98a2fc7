import { describe, expect, it } from '@jest/globals';
import { tradingDay } from './trading-day';

describe('trading day', () => {
  it('rolls at midnight UTC by default', () => {
    expect(tradingDay(new Date('2025-03-01T23:59:59.999Z'), 'UTC')).toBe('2025-03-01');
    expect(tradingDay(new Date('2025-03-02T00:00:00.000Z'), 'UTC')).toBe('2025-03-02');
  });

  it('rolls at the midnight of the configured time zone', () => {
    // New York is UTC-5 in winter: its day starts at 05:00 UTC.
    expect(tradingDay(new Date('2025-01-15T04:59:59.000Z'), 'America/New_York')).toBe('2025-01-14');
    expect(tradingDay(new Date('2025-01-15T05:00:00.000Z'), 'America/New_York')).toBe('2025-01-15');
    // Tokyo is UTC+9: 15:00 UTC is already the next day.
    expect(tradingDay(new Date('2025-01-15T15:00:00.000Z'), 'Asia/Tokyo')).toBe('2025-01-16');
  });
});
