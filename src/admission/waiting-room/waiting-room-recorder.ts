import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { DatabaseService } from '../../database/database.service';
import { type RecordedAdmission, WaitingRoomRepository } from './waiting-room.repository';

/**
 * Records in the database how far each waiting room has got, for the rebuild to put back should Redis
 * lose it: when each buyer first saw their admission (their token runs from it), and the count of places
 * admitted. Both come at the admission rate, during the sale, so they are written a batch per tick of the
 * ticker rather than one row per request; what a tick could not write is tried again on the next.
 */
@Injectable()
export class WaitingRoomRecorder implements BeforeApplicationShutdown {
  private readonly logger = new Logger(WaitingRoomRecorder.name);
  private admissions: RecordedAdmission[] = [];
  /** Admitted counts to record, and those recorded, by sale. */
  private readonly due = new Map<string, number>();
  private readonly recorded = new Map<string, number>();
  private flushing?: Promise<void>;

  constructor(
    private readonly repository: WaitingRoomRepository,
    private readonly database: DatabaseService,
  ) {}

  admissionSeen(admission: RecordedAdmission): void {
    this.admissions.push(admission);
  }

  admittedUpTo(saleId: string, admitted: number): void {
    if (admitted > Math.max(this.recorded.get(saleId) ?? 0, this.due.get(saleId) ?? 0)) this.due.set(saleId, admitted);
  }

  /** Writes what came since the last call; concurrent callers share one write. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  private async write(): Promise<void> {
    const admissions = this.admissions;
    const counts = [...this.due];
    if (admissions.length === 0 && counts.length === 0) return;
    this.admissions = [];
    this.due.clear();
    try {
      await this.database.transaction(async (manager) => {
        await this.repository.recordAdmissions(manager, admissions);
        for (const [saleId, admitted] of counts) await this.repository.recordAdmitted(manager, saleId, admitted);
      });
      if (this.recorded.size > 10_000) this.recorded.clear();
      for (const [saleId, admitted] of counts) this.recorded.set(saleId, Math.max(admitted, this.recorded.get(saleId) ?? 0));
    } catch (error) {
      this.admissions = admissions.concat(this.admissions);
      for (const [saleId, admitted] of counts) this.admittedUpTo(saleId, admitted);
      this.logger.warn(`Could not record ${admissions.length} admission time(s) and ${counts.length} admitted count(s) of waiting rooms; trying again: ${(error as Error).message}`);
    }
  }
}
