export * from './infra';
export * from './test-env';
export * from './wait-for';
export * from './platform-processes';
export * from './approvals';
export * from './finished-job';
export * from './operator-keys';
export * from './recorded-sources';
