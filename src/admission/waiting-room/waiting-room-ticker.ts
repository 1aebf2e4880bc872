import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { WaitingRoomRecorder } from './waiting-room-recorder';
import { WaitingRoomGateway } from './waiting-room.gateway';

/** How often each process moves the waiting rooms on; also how late a pause can stop admissions. */
export const TICK_INTERVAL_MS = 250;

/**
 * Moves every joined waiting room on to the present a few times a second, so that admissions follow the
 * clock even while nobody asks (and a pause stops them within one tick). Every process runs one, and that
 * is safe: the script admits by the time elapsed since its last run, atomically, so extra calls only
 * split the same admissions finer, never add to them. Each tick also records how far the rooms got
 * (WaitingRoomRecorder).
 */
@Injectable()
export class WaitingRoomTicker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WaitingRoomTicker.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly gateway: WaitingRoomGateway,
    private readonly recorder: WaitingRoomRecorder,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), TICK_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const saleId of await this.gateway.waitingRooms()) {
        const now = this.clock.now();
        const room = await this.gateway.advance(saleId, now);
        if (room !== undefined) this.recorder.admittedUpTo(saleId, room.admitted);
        if (room === undefined || now >= room.endsAt) await this.gateway.forgetWaitingRoom(saleId);
      }
    } catch (error) {
      // Redis down: the next tick catches up (admissions are arithmetic on the time elapsed).
      this.logger.warn({ err: error }, 'Could not move the waiting rooms on');
    } finally {
      // Whatever Redis did, what the buyers were shown is recorded (the recorder retries what fails).
      await this.recorder.flush();
      this.running = false;
    }
  }
}
