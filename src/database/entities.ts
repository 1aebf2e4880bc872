import { DeploymentEntity } from '../deployment/deployment.entity';
import { FcodeBatchEntity } from '../fcodes/fcode-batch.entity';
import { FcodeEntity } from '../fcodes/fcode.entity';
import { OrderEntity } from '../orders/order.entity';
import { PaymentRecordEntity } from '../payments/payment-record.entity';
import { ReservationEntity } from '../reservations/reservation.entity';
import { SaleEntity } from '../sales/sale.entity';

export const entities = [SaleEntity, ReservationEntity, OrderEntity, FcodeEntity, FcodeBatchEntity, PaymentRecordEntity, DeploymentEntity];
