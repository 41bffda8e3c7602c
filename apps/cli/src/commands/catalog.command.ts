import type { Command } from 'commander';
import {
  MeshCatalog,
  NATURAL_KEY,
  openAccount,
  reencryptCatalogs,
  type CatalogObject,
  type CatalogSyncOutcome,
} from '@cryptomesh/client';
import { CATALOG_NAMES, type CatalogName, type JsonObject } from '@cryptomesh/mesh';
import { CliUsageError } from '../cli-io';
import type { ClientCommandContext } from './client.commands';

function catalogName(name: string): CatalogName {
  if (!(CATALOG_NAMES as readonly string[]).includes(name))
    throw new CliUsageError(`the catalog is one of ${CATALOG_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  return name as CatalogName;
}

function key(text: string): string {
  if (text === '' || text.length > 1000) throw new CliUsageError('the key is 1–1000 characters');
  return text;
}

/**
 * The content `mesh catalog put CATALOG KEY VALUE` stores: VALUE is a JSON object. A credential is
 * `{"Service": KEY, "Username", "Password"}` (VALUE gives the last two); an application configuration
 * is `{"Application": KEY, "Settings": VALUE}`. Contacts are written by `mesh contact` (their Access
 * is what the portals decide by), not here.
 */
function contentOf(catalog: CatalogName, naturalKey: string, text: string): JsonObject {
  if (catalog === 'contact')
    throw new CliUsageError(
      'contacts are written with `mesh contact add|request|accept|block`, not `catalog put`',
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliUsageError('the value must be a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CliUsageError('the value must be a JSON object');
  const v = value as JsonObject;
  if (catalog === 'application') return { Application: naturalKey, Settings: v };
  if (typeof v['Username'] !== 'string' || typeof v['Password'] !== 'string')
    throw new CliUsageError('a credential is {"Username": …, "Password": …}');
  return { Service: naturalKey, Username: v['Username'], Password: v['Password'] };
}

function objectJson(o: CatalogObject): Record<string, unknown> {
  return {
    catalog: o.catalog,
    key: o.content[NATURAL_KEY[o.catalog]],
    id: o.id,
    sequence: o.sequence,
    created: o.created,
    device: o.device,
    ...(o.access === undefined ? {} : { access: o.access }),
    content: o.content,
  };
}

/** The lines that tell what a re-encryption of the catalogs did (sync, device accept and remove). */
export function catalogSyncLines(outcome: CatalogSyncOutcome): string[] {
  if ('unreadable' in outcome)
    return [
      `the catalogs were NOT re-encrypted: ${outcome.unreadable}; run \`mesh catalog sync\` on a device that reads them`,
    ];
  const total = (counts: Readonly<Record<CatalogName, number>>) =>
    CATALOG_NAMES.reduce((sum, name) => sum + counts[name], 0);
  return [
    `catalogs: ${total(outcome.rewritten)} object(s) re-encrypted to the account's devices` +
      ` (${CATALOG_NAMES.map((name) => `${name} ${outcome.rewritten[name]}`).join(', ')}),` +
      ` ${total(outcome.tombstones)} deleted one(s) left as they are`,
  ];
}

/**
 * `mesh catalog put|get|list|delete CATALOG KEY [VALUE]|sync` (issue #20; docs/design/inbound.md
 * "Catalog objects"): the account's catalogs at its home portal, NOT logged — each value signed by this
 * device and encrypted to the account's devices, verified when read back. `sync` writes every object
 * again, encrypted to the account's devices now and signed by this device (catalog-sync.ts).
 */
export function registerCatalogCommands(program: Command, context: ClientCommandContext): void {
  const catalogCommand = program
    .command('catalog')
    .description(`your private catalogs at your portal (${CATALOG_NAMES.join(', ')}), not logged`);
  const open = async (): Promise<MeshCatalog> => {
    context.progress('reading the account from the portal and verifying it in the log …');
    return new MeshCatalog(await openAccount(context.manager()));
  };

  catalogCommand
    .command('put')
    .description('store (or replace) an object')
    .argument('<catalog>', CATALOG_NAMES.join(' | '))
    .argument('<key>', 'its key: a service, an application name')
    .argument(
      '<value>',
      'a JSON object (a credential: {"Username","Password"}; an application: its settings)',
    )
    .action(
      context.action(async (name: string, text: string, value: string) => {
        const catalog = catalogName(name);
        const naturalKey = key(text);
        const content = contentOf(catalog, naturalKey, value);
        const stored = await (await open()).put(catalog, naturalKey, content);
        context.result({ object: objectJson(stored) }, [
          `stored ${catalog} ${naturalKey} (sequence ${stored.sequence})`,
        ]);
      }),
    );

  catalogCommand
    .command('get')
    .description('show an object')
    .argument('<catalog>', CATALOG_NAMES.join(' | '))
    .argument('<key>', 'its key')
    .action(
      context.action(async (name: string, text: string) => {
        const catalog = catalogName(name);
        const naturalKey = key(text);
        const found = await (await open()).get(catalog, naturalKey);
        if (found === undefined)
          throw new CliUsageError(`no ${catalog} object ${text}`, 1, 'catalog.not-found');
        context.result({ object: objectJson(found) }, [JSON.stringify(found.content)]);
      }),
    );

  catalogCommand
    .command('list')
    .description("list a catalog's objects")
    .argument('<catalog>', CATALOG_NAMES.join(' | '))
    .action(
      context.action(async (name: string) => {
        const catalog = catalogName(name);
        const objects = await (await open()).list(catalog);
        context.result(
          { objects: objects.map(objectJson) },
          objects.length === 0
            ? [`no ${catalog} object`]
            : objects.map(
                (o) =>
                  `${JSON.stringify(o.content[NATURAL_KEY[catalog]] ?? null)}  ${JSON.stringify(o.content)}`,
              ),
        );
      }),
    );

  catalogCommand
    .command('delete')
    .description('delete an object (a signed tombstone)')
    .argument('<catalog>', CATALOG_NAMES.join(' | '))
    .argument('<key>', 'its key')
    .action(
      context.action(async (name: string, text: string) => {
        const catalog = catalogName(name);
        const naturalKey = key(text);
        const deleted = await (await open()).delete(catalog, naturalKey);
        if (!deleted) throw new CliUsageError(`no ${catalog} object ${text}`, 1, 'catalog.not-found');
        context.result({ deleted: true, catalog, key: text }, [`deleted ${catalog} ${text}`]);
      }),
    );

  catalogCommand
    .command('sync')
    .description(
      "re-encrypt every object to the account's devices now (after a device joined or left), signed by this device",
    )
    .action(
      context.action(async () => {
        context.progress('reading the account from the portal and verifying it in the log …');
        const account = await openAccount(context.manager());
        context.progress('re-encrypting every catalog object …');
        const catalogs = await reencryptCatalogs(account);
        context.result({ catalogs }, catalogSyncLines(catalogs));
      }),
    );
}
