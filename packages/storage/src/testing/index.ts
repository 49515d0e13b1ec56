export * from './contract.ts';
export * from './pattern.ts';
export * from './s3-server.ts';
export * from './supabase-server.ts';
