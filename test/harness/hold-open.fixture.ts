import { writeFileSync } from 'node:fs';
import { createTestDatabase } from '../env/test-database';

// Creates a database, reports it (and the broker it was given) in MARKER_FILE, then waits to be interrupted.
it('holds a database open until interrupted', async () => {
  const db = await createTestDatabase('holdopen');
  const marker = process.env.MARKER_FILE;
  if (!marker) throw new Error('MARKER_FILE is not set');
  writeFileSync(marker, JSON.stringify({ database: db.name, brokers: process.env.KAFKA_BROKERS }));
  await new Promise((resolve) => setTimeout(resolve, 100_000));
}, 110_000);
