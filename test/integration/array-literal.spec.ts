import fc from 'fast-check';
import { Client } from 'pg';
import { integerArray, textArray } from '../../libs/persistence/src/stores/array-literal';
import { createTestDatabase, type TestDatabase } from '../env/test-database';

/** The literals of array-literal.ts read back by the real server as the arrays they were made of (#17). */
describe('array literals on PostgreSQL', () => {
  let db: TestDatabase;
  let client: Client;

  beforeAll(async () => {
    db = await createTestDatabase('arrayliteral');
    client = new Client({ connectionString: db.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  it('text[]: any strings (quotes, backslashes, braces, commas, spaces, "NULL", any script) and NULL', async () => {
    const edges = ['NULL', 'null', '', '{,}', ' x ', 'a"b', 'c\\d', '\\"', '{"a":1}', 'é\u{1F600}', null];
    const read = await client.query<{ a: Array<string | null> }>('SELECT $1::text[] AS a', [
      textArray(edges),
    ]);
    expect(read.rows[0]!.a).toEqual(edges);
    const text = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\0'));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(text, { nil: null }), { maxLength: 20 }), async (values) => {
        const { rows } = await client.query<{ a: Array<string | null> }>('SELECT $1::text[] AS a', [
          textArray(values),
        ]);
        expect(rows[0]!.a).toEqual(values);
      }),
      { numRuns: 200 },
    );
  });

  it('int[] and bigint[]: any safe integers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer(), { maxLength: 20 }),
        fc.array(fc.maxSafeInteger(), { maxLength: 20 }),
        async (ints, bigs) => {
          const { rows } = await client.query<{ i: number[]; b: string[] }>(
            'SELECT $1::int[] AS i, $2::bigint[] AS b',
            [integerArray(ints), integerArray(bigs)],
          );
          expect(rows[0]!.i).toEqual(ints);
          expect(rows[0]!.b.map(Number)).toEqual(bigs);
        },
      ),
      { numRuns: 100 },
    );
  });
});
