/**
 * The server's clock as seen from the browser. Countdowns and the moment the Buy button turns on follow
 * the server, not the device: a phone's clock that is minutes off must not open the sale early or late.
 * Each response that carries `serverTime` resets the offset (server time − local time at the response).
 */
export class ServerClock {
  private offsetMs = 0;
  private syncedOnce = false;

  constructor(private readonly localNow: () => number = () => Date.now()) {}

  sync(serverTime: string, receivedAt: number = this.localNow()): void {
    const server = Date.parse(serverTime);
    if (Number.isNaN(server)) return;
    this.offsetMs = server - receivedAt;
    this.syncedOnce = true;
  }

  get synced(): boolean {
    return this.syncedOnce;
  }

  get offset(): number {
    return this.offsetMs;
  }

  now(): number {
    return this.localNow() + this.offsetMs;
  }
}

export const serverClock = new ServerClock();
