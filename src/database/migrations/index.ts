import { InitialSchema1763900000000 } from './1763900000000-initial-schema';

/** Every migration, oldest first. Listed explicitly so that ts-jest, ts-node and `dist/` all find them. */
export const migrations = [InitialSchema1763900000000];
