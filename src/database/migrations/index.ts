import { InitialSchema1763900000000 } from './1763900000000-initial-schema';
import { FcodesExportIndex1763900600000 } from './1763900600000-fcodes-export-index';
import { DeploymentIdentity1764380000000 } from './1764380000000-deployment-identity';
import { PaymentsLedger1764400000000 } from './1764400000000-payments-ledger';
import { SaleTimeline1764420000000 } from './1764420000000-sale-timeline';
import { SaleAdmission1764600000000 } from './1764600000000-sale-admission';
import { LotteryEntries1764700000000 } from './1764700000000-lottery-entries';
import { WaitingRoomLine1764800000000 } from './1764800000000-waiting-room-line';

/** Every migration, oldest first. Listed explicitly so that ts-jest, ts-node and `dist/` all find them. */
export const migrations = [InitialSchema1763900000000, FcodesExportIndex1763900600000, DeploymentIdentity1764380000000, PaymentsLedger1764400000000, SaleTimeline1764420000000, SaleAdmission1764600000000, LotteryEntries1764700000000, WaitingRoomLine1764800000000];
