import type { TestApp } from './test-app';

/** Thrown inside a held transaction to roll it back on purpose. */
class RolledBackOnPurpose extends Error {}

export interface HeldWriteLock {
  /** Lets the transaction commit, and waits for it. */
  commit(): Promise<void>;
  /** Makes the transaction throw, so that it rolls back, and waits for it. */
  rollBack(): Promise<void>;
}

/**
 * Opens a transaction on `app` that takes the embedded database's write lock and holds it across an await,
 * as a sale change does across its Redis write, until it is told to commit or roll back. Resolves once the
 * lock is held.
 */
export async function holdWriteLock(app: TestApp): Promise<HeldWriteLock> {
  let end!: (rollBack: boolean) => void;
  const ended = new Promise<boolean>((resolve) => (end = resolve));
  let lockHeld!: () => void;
  const held = new Promise<void>((resolve) => (lockHeld = resolve));
  const transaction = app.database.transaction(async (manager) => {
    await manager.query('UPDATE "sales" SET "id" = "id" WHERE 0');
    lockHeld();
    if (await ended) throw new RolledBackOnPurpose('rolled back on purpose');
  });
  await Promise.race([held, transaction]);
  return {
    commit: async () => {
      end(false);
      await transaction;
    },
    rollBack: async () => {
      end(true);
      const outcome = await transaction.then(
        () => 'committed',
        (error: unknown) => (error instanceof RolledBackOnPurpose ? 'rolled back' : Promise.reject(error)),
      );
      if (outcome !== 'rolled back') throw new Error(`the held transaction ${outcome} instead of rolling back`);
    },
  };
}
