export * from './canonical';
export * from './checkpoint';
export * from './postgres';
export * from './verify';
