export * from './contract.ts';
export * from './s3-server.ts';
