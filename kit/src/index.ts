export * from './auth';
export * from './auth-context';
export * from './config';
export * from './datetime';
export * from './errors';
export * from './logger';
export * from './serve';
