import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { ObservedOrder } from '../../support/invariants';
import { TcpProxy } from './tcp-proxy';

/**
 * The scenario's database: a throwaway PostgreSQL database (when DATABASE_URL points at PostgreSQL) or
 * an embedded database file. The suite reads orders straight from it, because the database is the
 * record every answer is held against. `outage` makes it unreachable for the service for a while.
 */
export interface FaultDatabase {
  readonly kind: 'postgres' | 'sqlite';
  /** DATABASE_URL for the service. */
  readonly serviceUrl: string;
  ordersOf(saleId: string): Promise<ObservedOrder[]>;
  /** What `outage` does on this database, for the summary. */
  readonly outageKind: string;
  outage(ms: number): Promise<void>;
  close(): Promise<void>;
}

const ORDER_COLUMNS = 'id, user_id, quantity, status, pool, fcode_hash, created_at';

interface OrderRow {
  id: string;
  user_id: string;
  quantity: number;
  status: string;
  pool: string;
  fcode_hash: string | null;
  created_at: string | number;
}

function toObserved(row: OrderRow): ObservedOrder {
  return { id: row.id, userId: row.user_id, quantity: Number(row.quantity), status: row.status, pool: row.pool, fcodeHash: row.fcode_hash ?? '', createdAt: Number(row.created_at) };
}

/** A fresh database for one scenario, on the server DATABASE_URL names, or an embedded file without it. */
export async function createFaultDatabase(outageMode: 'cut' | 'stall' = 'cut'): Promise<FaultDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl && /^postgres(ql)?:/.test(adminUrl)) return PostgresFaultDatabase.create(adminUrl, outageMode);
  return new SqliteFaultDatabase(join(tmpdir(), `sellout-fault-${randomBytes(6).toString('hex')}.sqlite`));
}

class PostgresFaultDatabase implements FaultDatabase {
  readonly kind = 'postgres';

  private constructor(
    private readonly adminUrl: string,
    private readonly name: string,
    private readonly proxy: TcpProxy,
    private readonly reader: Client,
    readonly serviceUrl: string,
    private readonly outageMode: 'cut' | 'stall',
  ) {}

  static async create(adminUrl: string, outageMode: 'cut' | 'stall'): Promise<PostgresFaultDatabase> {
    const name = `sellout_fault_${randomBytes(6).toString('hex')}`;
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const direct = new URL(adminUrl);
    direct.pathname = `/${name}`;
    // The service reaches the database only through the proxy; the suite reads it directly.
    const proxy = new TcpProxy(direct.hostname, Number(direct.port || 5432));
    await proxy.start();
    const viaProxy = new URL(direct.toString());
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const reader = new Client({ connectionString: direct.toString() });
    await reader.connect();
    return new PostgresFaultDatabase(adminUrl, name, proxy, reader, viaProxy.toString(), outageMode);
  }

  get outageKind(): string {
    return this.outageMode === 'cut' ? 'PostgreSQL connections reset and refused (TCP proxy cut)' : 'PostgreSQL connections carry no bytes (TCP proxy stalled)';
  }

  async ordersOf(saleId: string): Promise<ObservedOrder[]> {
    const { rows } = await this.reader.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE sale_id = $1`, [saleId]);
    return rows.map(toObserved);
  }

  outage(ms: number): Promise<void> {
    return this.outageMode === 'cut' ? this.proxy.cut(ms) : this.proxy.stall(ms);
  }

  async close(): Promise<void> {
    await this.reader.end().catch(() => undefined);
    await this.proxy.close();
    const admin = new Client({ connectionString: this.adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
    await admin.end();
  }
}

class SqliteFaultDatabase implements FaultDatabase {
  readonly kind = 'sqlite';
  readonly serviceUrl: string;
  readonly outageKind = 'embedded database locked by another writer (BEGIN EXCLUSIVE)';

  constructor(private readonly file: string) {
    this.serviceUrl = `sqlite:${file}`;
  }

  async ordersOf(saleId: string): Promise<ObservedOrder[]> {
    const reader = new Database(this.file, { readonly: true, fileMustExist: true });
    try {
      return (reader.prepare(`SELECT ${ORDER_COLUMNS} FROM orders WHERE sale_id = ?`).all(saleId) as OrderRow[]).map(toObserved);
    } finally {
      reader.close();
    }
  }

  /**
   * The embedded database has no network to cut. The nearest honest equivalent: another writer holds
   * the file's write lock, so every write of the service waits and then fails, as against a database
   * that does not answer.
   */
  async outage(ms: number): Promise<void> {
    const locker = new Database(this.file, { fileMustExist: true });
    try {
      locker.exec('BEGIN EXCLUSIVE');
      await new Promise((resolve) => setTimeout(resolve, ms));
      locker.exec('COMMIT');
    } finally {
      locker.close();
    }
  }

  async close(): Promise<void> {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${this.file}${suffix}`, { force: true });
  }
}
