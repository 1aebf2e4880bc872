import { LotteryEntryEntity } from '../admission/lottery/lottery-entry.entity';
import { LotteryRoundEntity } from '../admission/lottery/lottery-round.entity';
import { QueueEntryEntity } from '../admission/waiting-room/queue-entry.entity';
import { DeploymentEntity } from '../deployment/deployment.entity';
import { FcodeBatchEntity } from '../fcodes/fcode-batch.entity';
import { FcodeEntity } from '../fcodes/fcode.entity';
import { TimelineBucketEntity } from '../live/timeline-bucket.entity';
import { OrderEntity } from '../orders/order.entity';
import { PaymentRecordEntity } from '../lifecycle/payments/payment-record.entity';
import { ReservationEntity } from '../reservations/reservation.entity';
import { SaleEntity } from '../sales/sale.entity';

export const entities = [SaleEntity, ReservationEntity, OrderEntity, FcodeEntity, FcodeBatchEntity, PaymentRecordEntity, DeploymentEntity, TimelineBucketEntity, LotteryEntryEntity, LotteryRoundEntity, QueueEntryEntity];
