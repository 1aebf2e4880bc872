import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ADMISSION_MODES, type AdmissionMode, lotteryClosesAtOf, queueOpensAtOf } from '../../admission/admission-mode';
import { SALE_PHASES, type SalePhase, salePhase } from '../sale-rules';
import type { SaleEntity } from '../sale.entity';
import type { Sale, SaleList, SalePage } from '../../contract/responses';

/** The numbers of a sale that change while it runs, read from its Redis state. */
export interface SaleLiveNumbers {
  /** Units ever loaded per pool (the stock equation's totals). */
  general: number;
  fcode: number;
  generalRemaining: number;
  fcodeRemaining: number;
  paused: boolean;
  /** Reservations held (exact: HLEN of the reservations hash). */
  reservations: number;
}

/** The public side of a sale's lottery: the commitment to its seed, from the commit on. */
export class SaleLotteryDto {
  @ApiProperty({ type: String, nullable: true, example: null, description: 'SHA-256 (hex) of the secret seed; null until ops commit' })
  seedHash: string | null;

  @ApiProperty({ example: false })
  drawn: boolean;
}

/** The `Sale` of the HTTP contract (`GET /api/sales/:saleId`). */
export class SaleResponseDto implements Sale {
  @ApiProperty({ example: 's_01jd8x3v7q9m2k4p6r8t0w2y4z' })
  id: string;

  @ApiProperty({ example: 'redmi-1s-grey' })
  sku: string;

  @ApiProperty({ example: 'Redmi 1S' })
  name: string;

  @ApiProperty({ example: 'Grey, 8 GB' })
  description: string;

  @ApiProperty({ example: 69900, description: 'Price of one unit in minor units' })
  priceCents: number;

  @ApiProperty({ example: 'CNY' })
  currency: string;

  @ApiProperty({ example: 100000, description: 'Units ever loaded into the general pool' })
  stock: number;

  @ApiProperty({ example: 5000, description: 'Units ever loaded into the F-code pool' })
  fcodeStock: number;

  @ApiProperty({ example: 1 })
  perUserLimit: number;

  @ApiProperty({ example: true })
  reservationRequired: boolean;

  @ApiProperty({ example: '2026-01-01T00:00:00.000Z' })
  reservationOpensAt: string;

  @ApiProperty({ example: '2026-01-02T12:00:00.000Z' })
  reservationClosesAt: string;

  @ApiProperty({ example: '2026-01-02T12:00:00.000Z' })
  fcodeOpensAt: string;

  @ApiProperty({ example: '2026-01-02T12:00:00.000Z' })
  startsAt: string;

  @ApiProperty({ example: '2026-01-03T12:00:00.000Z' })
  endsAt: string;

  @ApiProperty({ example: 900 })
  paymentWindowSeconds: number;

  @ApiProperty({ example: false })
  paused: boolean;

  @ApiProperty({ enum: ADMISSION_MODES, example: 'open' })
  admission: AdmissionMode;

  @ApiProperty({ example: '2026-01-02T12:00:00.000Z', description: 'When the waiting room opens (queue)' })
  queueOpensAt: string;

  @ApiProperty({ example: 1000 })
  admissionRatePerSecond: number;

  @ApiProperty({ example: 120 })
  admissionTtlSeconds: number;

  @ApiProperty({ example: '2026-01-02T12:00:00.000Z', description: 'When lottery entries close (lottery)' })
  lotteryClosesAt: string;

  @ApiProperty({ example: 3600 })
  purchaseWindowSeconds: number;

  @ApiPropertyOptional({ type: SaleLotteryDto, description: 'Lottery sales only' })
  lottery?: SaleLotteryDto;

  @ApiProperty({ enum: SALE_PHASES, description: 'Derived from the server clock; see the HTTP contract, "Sales (ops)"' })
  phase: SalePhase;

  @ApiProperty({ example: 100000, description: 'Unsold units of the general pool' })
  remaining: number;

  @ApiProperty({ example: 5000, description: 'Unsold units of the F-code pool' })
  fcodeRemaining: number;

  @ApiProperty({ example: 0, description: 'Reservations held' })
  reservations: number;

  @ApiProperty({ example: '2026-01-01T00:00:00.000Z', description: 'The server clock when this was rendered; clients count down against it' })
  serverTime: string;
}

export class SaleListResponseDto implements SaleList {
  @ApiProperty({ type: [SaleResponseDto] })
  items: SaleResponseDto[];
}

export class SalePageResponseDto implements SalePage {
  @ApiProperty({ type: [SaleResponseDto], description: 'Newest startsAt first (ties by id)' })
  items: SaleResponseDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page' })
  nextCursor: string | null;
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/**
 * Renders a sale as the contract's JSON. Totals, remaining units and the pause flag come from the live
 * numbers (Redis, always current); the rest from the row (which a reader may have cached briefly).
 */
export function toSaleResponse(sale: SaleEntity, live: SaleLiveNumbers, now: number): SaleResponseDto {
  return {
    id: sale.id,
    sku: sale.sku,
    name: sale.name,
    description: sale.description,
    priceCents: sale.priceCents,
    currency: sale.currency,
    stock: live.general,
    fcodeStock: live.fcode,
    perUserLimit: sale.perUserLimit,
    reservationRequired: sale.reservationRequired,
    reservationOpensAt: iso(sale.reservationOpensAt),
    reservationClosesAt: iso(sale.reservationClosesAt),
    fcodeOpensAt: iso(sale.fcodeOpensAt),
    startsAt: iso(sale.startsAt),
    endsAt: iso(sale.endsAt),
    paymentWindowSeconds: sale.paymentWindowSeconds,
    paused: live.paused,
    admission: sale.admission,
    queueOpensAt: iso(queueOpensAtOf(sale)),
    admissionRatePerSecond: sale.admissionRatePerSecond,
    admissionTtlSeconds: sale.admissionTtlSeconds,
    lotteryClosesAt: iso(lotteryClosesAtOf(sale)),
    purchaseWindowSeconds: sale.purchaseWindowSeconds,
    ...(sale.admission === 'lottery' ? { lottery: { seedHash: sale.lotterySeedHash ?? null, drawn: (sale.lotteryEntryCount ?? null) !== null } } : {}),
    phase: salePhase({ ...sale, paused: live.paused, generalRemaining: live.generalRemaining, fcodeRemaining: live.fcodeRemaining }, now),
    remaining: live.generalRemaining,
    fcodeRemaining: live.fcodeRemaining,
    reservations: live.reservations,
    serverTime: iso(now),
  };
}
