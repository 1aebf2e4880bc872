import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataSourceOptions } from './data-source-options';

describe('dataSourceOptions (embedded database)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sellout-db-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens the file in WAL mode and tunes each connection for batched order inserts', () => {
    const file = join(dir, 'sellout.sqlite');
    const options = dataSourceOptions({ kind: 'sqlite', file });
    expect(options).toMatchObject({ type: 'better-sqlite3', database: file, enableWAL: true });
    const db = new Database(file);
    try {
      (options as { prepareDatabase: (db: Database.Database) => void }).prepareDatabase(db);
      expect(db.pragma('synchronous', { simple: true })).toBe(1);
      expect(db.pragma('cache_size', { simple: true })).toBe(-65536);
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(10000);
    } finally {
      db.close();
    }
  });
});
