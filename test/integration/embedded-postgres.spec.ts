import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import {
  dataSourceOptions,
  runMigrations,
  startEmbeddedPostgres,
  TypeOrmConsumerProgressStore,
} from '@cryptomesh/persistence';

/** The embedded database of `npm start`: the real migrations and stores on PGlite, data kept across restarts. */
describe('embedded PostgreSQL (PGlite over the wire protocol)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmp-pglite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the migrations and keeps committed data across a restart', async () => {
    const first = await startEmbeddedPostgres({ dataDir: dir });
    let source = await new DataSource(dataSourceOptions({ url: first.url, poolSize: 4 })).initialize();
    try {
      expect((await runMigrations(source)).length).toBeGreaterThan(0);
      const store = new TypeOrmConsumerProgressStore(source);
      // Concurrent transactions over several pooled connections.
      await Promise.all(
        [0, 1, 2, 3].map((partition) =>
          source.transaction((tx) =>
            store.advance(tx, 'embedded', 'topic', partition, BigInt(partition + 10)),
          ),
        ),
      );
    } finally {
      await source.destroy();
      await first.stop();
    }

    const second = await startEmbeddedPostgres({ dataDir: dir });
    source = await new DataSource(dataSourceOptions({ url: second.url, poolSize: 2 })).initialize();
    try {
      expect(await runMigrations(source)).toEqual([]);
      expect(await new TypeOrmConsumerProgressStore(source).read('embedded', 'topic', 3)).toBe(13n);
    } finally {
      await source.destroy();
      await second.stop();
    }
  }, 120_000);
});
