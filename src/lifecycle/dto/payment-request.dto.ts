import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PAYMENT_METHODS, PAYMENT_OUTCOMES, PaymentMethod, PaymentOutcome } from '../payments/payment-provider';

/** Body of `POST /api/orders/:orderId/pay`. */
export class PaymentRequestDto {
  @ApiProperty({ enum: PAYMENT_METHODS, example: 'test-card', description: 'How to pay; the built-in provider accepts test-card' })
  @IsIn(PAYMENT_METHODS)
  method: PaymentMethod;

  @ApiPropertyOptional({ enum: PAYMENT_OUTCOMES, default: 'succeed', description: 'What the test card does: succeed, or decline (402 PAYMENT_DECLINED, the order stays payable)' })
  @IsOptional()
  @IsIn(PAYMENT_OUTCOMES)
  outcome?: PaymentOutcome;
}
