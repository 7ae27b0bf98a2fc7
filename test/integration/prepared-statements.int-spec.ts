import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '@desk/platform';
import { createDatabase, dropDatabase } from '@desk/testing';

/**
 * docs/adr/0024: every service's pool prepares each parameterised statement once per connection, so
 * PostgreSQL parses and plans it once. Seen from PostgreSQL itself (pg_prepared_statements), on a real
 * connection of a service's pool.
 */
describe("a service's database pool prepares its statements once per connection (real PostgreSQL)", () => {
  let db: { name: string; url: string };
  let ds: DataSource;

  beforeAll(async () => {
    db = await createDatabase('prepared');
    ds = await new DataSource(
      dataSourceOptions(db.url, { schema: 'public', entities: [], migrations: [] }),
    ).initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
    if (db) await dropDatabase(db.name);
  });

  it('runs a parameterised statement as one prepared statement, however often it runs, with the right answers', async () => {
    const sql = `SELECT $1::int + $2::int AS sum`;
    const { answers, prepared } = await ds.transaction(async (tx) => {
      const answers: number[] = [];
      for (let i = 0; i < 5; i++) answers.push((await tx.query<{ sum: number }[]>(sql, [i, 10]))[0].sum);
      const prepared: { statement: string; calls: string }[] = await tx.query(
        `SELECT statement, (generic_plans + custom_plans)::text AS calls FROM pg_prepared_statements`,
      );
      return { answers, prepared };
    });
    expect(answers).toEqual([10, 11, 12, 13, 14]);
    // Its own statement, executed five times; the catalog query has no parameters and ran unprepared.
    expect(prepared).toEqual([{ statement: sql, calls: '5' }]);
  });

  it('reports a statement that fails as before, and the connection goes on working', async () => {
    await expect(ds.query(`SELECT 1 / $1::int`, [0])).rejects.toThrow(/division by zero/);
    expect(await ds.query(`SELECT 1 / $1::int AS q`, [1])).toEqual([{ q: 1 }]);
    await expect(ds.query(`SELEC $1`, [1])).rejects.toThrow(/syntax error/);
    expect(await ds.query(`SELECT $1::text AS t`, ['still here'])).toEqual([{ t: 'still here' }]);
  });

  it('keeps working through a migration that runs while it does (a rolling deploy)', async () => {
    await ds.query(`CREATE TABLE things (id int PRIMARY KEY, v int NOT NULL)`);
    await ds.query(`INSERT INTO things VALUES ($1, $2)`, [1, 7]);
    const named = () => ds.query(`SELECT id, v FROM things WHERE id = $1`, [1]);
    const star = () => ds.query(`SELECT * FROM things WHERE id = $1`, [1]);
    expect(await named()).toEqual([{ id: 1, v: 7 }]);
    expect(await star()).toEqual([{ id: 1, v: 7 }]);
    // A column added: named columns keep their plan; a star projection was never prepared.
    await ds.query(`ALTER TABLE things ADD COLUMN note text`);
    expect(await named()).toEqual([{ id: 1, v: 7 }]);
    expect(await star()).toEqual([{ id: 1, v: 7, note: null }]);
    // A column's type changed under a prepared plan: the first call on a connection may fail, then the
    // statement runs unprepared and answers.
    await ds.query(`ALTER TABLE things ALTER COLUMN v TYPE bigint`);
    for (let i = 0; i < 10; i++) await named().catch(() => undefined); // every pooled connection, once
    expect(await named()).toEqual([{ id: 1, v: '7' }]);
  });

  it('prepares nothing when turned off (DATABASE_PREPARED_STATEMENTS=false: behind a pooler that cannot carry them)', async () => {
    const plain = await new DataSource(
      dataSourceOptions(db.url, { schema: 'public', entities: [], migrations: [] }, undefined, false),
    ).initialize();
    try {
      const prepared = await plain.transaction(async (tx) => {
        await tx.query(`SELECT $1::int AS one`, [1]);
        await tx.query(`SELECT $1::int AS one`, [1]);
        return tx.query<unknown[]>(`SELECT name FROM pg_prepared_statements`);
      });
      expect(prepared).toEqual([]);
    } finally {
      await plain.destroy();
    }
  });
});
