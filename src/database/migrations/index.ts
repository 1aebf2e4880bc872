import { InitialSchema1763900000000 } from './1763900000000-initial-schema';
import { FcodesExportIndex1763900600000 } from './1763900600000-fcodes-export-index';
import { DeploymentIdentity1764380000000 } from './1764380000000-deployment-identity';
import { PaymentsLedger1764400000000 } from './1764400000000-payments-ledger';

/** Every migration, oldest first. Listed explicitly so that ts-jest, ts-node and `dist/` all find them. */
export const migrations = [InitialSchema1763900000000, FcodesExportIndex1763900600000, DeploymentIdentity1764380000000, PaymentsLedger1764400000000];
