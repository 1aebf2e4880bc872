import { Injectable } from '@nestjs/common';

/**
 * The server clock. Phases, windows and payment deadlines are all decided by it, and Lua scripts
 * receive its `now()` as an argument, so tests can replace it with a controllable clock.
 */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }
}

/** A clock that only moves when told to; for tests and rehearsals. */
export class ManualClock extends Clock {
  constructor(private current = Date.now()) {
    super();
  }
  override now(): number {
    return this.current;
  }
  set(epochMs: number): void {
    this.current = epochMs;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
