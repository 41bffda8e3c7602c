import type { PortalSetup } from './portal-setup';

/**
 * The lines `npm start` prints for a person once the portal listens (issue #16: the URL, origin and
 * verifier key were buried in some 45 JSON lines). Plain text on standard error; the JSON log on
 * standard output stays for machines.
 */
export function portalBanner(
  url: string,
  setup: Pick<PortalSetup, 'origin' | 'verifierKey' | 'database' | 'keyCreated'> & {
    readonly portalId: string;
    readonly dataDir: string;
  },
): string {
  const storage =
    setup.database === 'embedded'
      ? `${setup.dataDir} (embedded PostgreSQL and the log key)`
      : `${setup.dataDir} (the log key; the database is DATABASE_URL)`;
  return [
    '',
    `CryptoMesh Portal "${setup.portalId}" is running${setup.keyCreated ? ' (first start: log key created)' : ''}`,
    '',
    `  URL            ${url}   (status page at ${url}/)`,
    `  origin         ${setup.origin}`,
    `  verifier key   ${setup.verifierKey}`,
    `  data           ${storage}`,
    '',
    '  Next, in a second terminal (README "The mesh profile manager"):',
    `    npm run build && alias mesh='node dist/apps/cli/apps/cli/src/main.js'`,
    `    mesh profile create --portal ${url} --account you@example.com`,
    '',
    '  Stop with Ctrl-C. The JSON lines are the log (LOG_LEVEL=warn keeps only problems).',
    '',
  ].join('\n');
}
