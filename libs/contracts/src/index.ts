export * from './audit-actions';
export * from './jobs';
export * from './markets';
export * from './money';
export * from './orders';
export * from './queues';
export * from './order-rules';
export * from './approvals';
