import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { LiveGateway } from '../live/live.gateway';
import type { SaleSignal } from '../live/sale-signal';

interface Flag {
  /** The sale's stockVersion when the pool was seen empty; a newer version means units came back. */
  version: number;
  /** Real time (not the business clock) after which the flag is no longer trusted. */
  trustedUntil: number;
}

interface SaleFlags {
  generalEmpty?: Flag;
  bothEmpty?: Flag;
  /** Newest stockVersion announced on the channel, so a late SOLD_OUT reply cannot set a stale flag. */
  announcedVersion: number;
}

/**
 * Per-process memory of "this sale is sold out", so that the stampede after a sell-out is answered
 * without touching Redis. A flag is cleared when any process announces a newer stockVersion on the
 * stock channel (`<saleId>:<stockVersion>`, published when units are added or returned), and in any
 * case after `SOLD_OUT_FLAG_TTL_MS`, in case an announcement was missed (e.g. during a reconnect). The
 * announcements come through `LiveGateway`, whose one subscription per process also feeds the live updates.
 */
@Injectable()
export class SoldOutCache implements OnModuleInit {
  private readonly sales = new Map<string, SaleFlags>();

  constructor(
    private readonly live: LiveGateway,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.live.onSaleSignal((signal) => this.onSaleSignal(signal));
  }

  /**
   * Whether this buyer's purchase is known to find no stock: without a code the general pool decides;
   * an F-code holder can also draw from the F-code pool, so only both pools empty counts.
   */
  isSoldOut(saleId: string, withFcode: boolean): boolean {
    const flags = this.sales.get(saleId);
    if (!flags) return false;
    const flag = withFcode ? flags.bothEmpty : flags.generalEmpty;
    if (!flag) return false;
    if (Date.now() >= flag.trustedUntil || flag.version < flags.announcedVersion) {
      if (withFcode) flags.bothEmpty = undefined;
      else flags.generalEmpty = undefined;
      return false;
    }
    return true;
  }

  /** Records what a SOLD_OUT answer of the script said about the pools. */
  recordSoldOut(saleId: string, generalRemaining: number, fcodeRemaining: number, stockVersion: number): void {
    if (this.config.soldOutFlagTtlMs === 0) return;
    const flags = this.flagsOf(saleId);
    if (stockVersion < flags.announcedVersion) return;
    const flag = { version: stockVersion, trustedUntil: Date.now() + this.config.soldOutFlagTtlMs };
    if (generalRemaining <= 0) flags.generalEmpty = flag;
    if (generalRemaining <= 0 && fcodeRemaining <= 0) flags.bothEmpty = flag;
  }

  /** Handles a stock announcement of the stock channel (and ignores the channel's change notices). */
  onSaleSignal(signal: SaleSignal): void {
    if (signal.kind !== 'stock') return;
    const version = signal.stockVersion;
    const flags = this.flagsOf(signal.saleId);
    if (version <= flags.announcedVersion) return;
    flags.announcedVersion = version;
    if (flags.generalEmpty && flags.generalEmpty.version < version) flags.generalEmpty = undefined;
    if (flags.bothEmpty && flags.bothEmpty.version < version) flags.bothEmpty = undefined;
  }

  private flagsOf(saleId: string): SaleFlags {
    let flags = this.sales.get(saleId);
    if (!flags) {
      flags = { announcedVersion: 0 };
      this.sales.set(saleId, flags);
    }
    return flags;
  }
}
