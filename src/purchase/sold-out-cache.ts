import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_SUBSCRIBER } from '../redis/redis.constants';

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
 * sold-out channel (`<saleId>:<stockVersion>`, published when units are added or returned), and in any
 * case after `SOLD_OUT_FLAG_TTL_MS`, in case an announcement was missed (e.g. during a reconnect).
 */
@Injectable()
export class SoldOutCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SoldOutCache.name);
  private readonly sales = new Map<string, SaleFlags>();
  private readonly onMessage = (channel: string, message: string) => {
    if (channel === this.keys.soldOutChannel) this.onStockAnnouncement(message);
  };

  constructor(
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
    private readonly keys: RedisKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.subscriber.on('message', this.onMessage);
    await this.subscriber.subscribe(this.keys.soldOutChannel);
  }

  onModuleDestroy(): void {
    this.subscriber.off('message', this.onMessage);
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

  /** Handles `<saleId>:<stockVersion>` from the sold-out channel. */
  onStockAnnouncement(message: string): void {
    const separator = message.lastIndexOf(':');
    const saleId = message.slice(0, separator);
    const versionText = message.slice(separator + 1);
    const version = Number(versionText);
    if (separator <= 0 || !/^\d{1,15}$/.test(versionText)) {
      this.logger.warn(`Ignoring malformed stock announcement "${message}"`);
      return;
    }
    const flags = this.flagsOf(saleId);
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
