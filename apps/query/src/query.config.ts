import { z } from 'zod';
import { isValidPortalId } from '@cryptomesh/intermesh/topics';
import {
  commonConfigShape,
  databaseConfigShape,
  loadConfig,
  logBacklogConfigShape,
  workersConfigShape,
} from '@cryptomesh/service';

/** The query service's environment (docs/configuration.md lists every variable). */
export function queryConfigShape() {
  return {
    ...commonConfigShape(8082),
    ...databaseConfigShape(),
    ...logBacklogConfigShape(),
    ...workersConfigShape(),
    /** This portal's id, named by `/federation` until the replication service wrote its own row. */
    PORTAL_ID: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .string()
        .trim()
        .refine(isValidPortalId, { message: 'must be 1–63 of a–z 0–9 - (starting with a letter or digit)' })
        .optional(),
    ),
  };
}

export type QueryConfig = ReturnType<typeof loadQueryConfig>;

export function loadQueryConfig(env: NodeJS.ProcessEnv) {
  return loadConfig(queryConfigShape(), env);
}
