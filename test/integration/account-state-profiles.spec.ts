import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { dataSourceOptions, resolvedStateSql, runMigrations } from '@cryptomesh/persistence';
import { createTestDatabase, type TestDatabase } from '../env/test-database';

/**
 * How a stored account state's profile references read back (`resolvedStateSql`, migration
 * AccountStateProfiles; docs/design/federation.md "Stored account states"), on the real PostgreSQL,
 * row shapes the stores write and damaged ones they never write.
 */
describe('stored account states: profile references resolved in SQL (issue #17)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  const jws = (tag: string) => ({ protected: `h${tag}`, payload: `p${tag}`, signature: `s${tag}` });
  const text = (tag: string) => JSON.stringify(jws(tag));
  const digest = (tag: string) => createHash('sha256').update(text(tag)).digest('hex');
  const ref = (tag: string) => ({ sha256: digest(tag) });

  beforeAll(async () => {
    db = await createTestDatabase('stateprofiles');
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 2 })).initialize();
    await runMigrations(dataSource);
    for (const tag of ['m', 'p', 'a', 'b'])
      await dataSource.query(`INSERT INTO mirror_account_profiles (digest, jws) VALUES ($1, $2)`, [
        Buffer.from(digest(tag), 'hex'),
        text(tag),
      ]);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  const resolve = async (state: unknown): Promise<unknown> => {
    const rows = await dataSource.query<Array<{ state: unknown }>>(
      `SELECT ${resolvedStateSql('s.state', 'mirror_account_profiles')} AS state FROM (SELECT $1::jsonb AS state) s`,
      [JSON.stringify(state)],
    );
    return rows[0]!.state;
  };

  it('puts every profile back, objects in their order, inactive ones null, inline ones as they are', async () => {
    const base = { v: 2, account: 'x', status: 'active' };
    expect(
      await resolve({
        ...base,
        master: ref('m'),
        personal: jws('inline'),
        objects: [
          ['b', ref('b')],
          ['gone', null],
          ['a', ref('a')],
          ['c', jws('c')],
        ],
      }),
    ).toEqual({
      ...base,
      master: jws('m'),
      personal: jws('inline'),
      objects: [
        ['b', jws('b')],
        ['gone', null],
        ['a', jws('a')],
        ['c', jws('c')],
      ],
    });
  });

  it('reads a reference to a profile that is not stored as {missing}, never as an inactive object', async () => {
    const lost = createHash('sha256').update('lost').digest('hex');
    expect(
      await resolve({
        v: 2,
        master: { sha256: lost },
        personal: ref('p'),
        objects: [['a', { sha256: lost }]],
      }),
    ).toEqual({
      v: 2,
      master: { missing: lost },
      personal: jws('p'),
      objects: [['a', { missing: lost }]],
    });
  });

  it('leaves what it does not recognise for the decoder, and adds no key a row lacks', async () => {
    const odd = { v: 2, master: { sha256: 'not hex' }, personal: 7, objects: 'no array' };
    expect(await resolve(odd)).toEqual(odd);
    expect(await resolve({ v: 2, master: ref('m') })).toEqual({ v: 2, master: jws('m') });
    expect(await resolve([1, 2])).toEqual([1, 2]);
  });

  it("refuses a profile row whose digest is not its text's", async () => {
    await expect(
      dataSource.query(`INSERT INTO mirror_account_profiles (digest, jws) VALUES ($1, $2)`, [
        Buffer.from(digest('m'), 'hex'),
        text('forged'),
      ]),
    ).rejects.toThrow(/check constraint/);
  });
});
