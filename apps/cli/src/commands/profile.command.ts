import type { Command } from 'commander';
import { accountView, type MasterProfile, type SignedProfile } from '@cryptomesh/mesh';
import {
  ClientError,
  DEFAULT_LOG_WAIT_MS,
  fetchVerifiedProfile,
  isClientError,
  readProfileDocument,
  refusalCode,
  TRUST_DOCUMENT,
  trustFromJson,
  type PinnedPortal,
  type PortalTrust,
} from '@cryptomesh/client';
import { CliUsageError } from '../cli-io';
import { urlOption, type ClientCommandContext } from './client.commands';

interface CreateOptions {
  readonly portal: string;
  readonly account: string;
  readonly query?: string;
  readonly description?: string;
}

interface ShowOptions {
  readonly verify?: boolean;
  readonly via?: string;
  readonly proofs?: string;
}

const PROOF_SOURCES = ['auto', 'tiles', 'json'] as const;

/**
 * `mesh profile create --portal URL --account ADDRESS [--query URL]` (quick start, 002 §2.1.1):
 * master, personal and device keys and profiles, the account registered, the fingerprint printed.
 * `mesh profile show [--verify] [--via URL|ID]`: what this home holds; with `--verify` (implied by
 * `--via`) the Master and Personal Profiles are read back from the log of the home portal — or of
 * the pinned peer `--via`, which serves its mirror of the home portal's log — with every check of
 * client.md "Verified reads".
 */
export function registerProfileCommands(program: Command, context: ClientCommandContext): void {
  const profile = program.command('profile').description('create this profile, and show it');

  profile
    .command('create')
    .description('create a profile: master, personal and device keys, and register the account')
    .requiredOption('--portal <url>', "the home portal's gateway URL")
    .requiredOption('--account <address>', 'the account, e.g. alice@example.com')
    .option('--query <url>', "the portal's query service (default: what the portal announces)")
    .option('--description <text>', 'what this device is called')
    .action(
      context.action(async (options: CreateOptions) => {
        const gatewayUrl = urlOption('--portal', options.portal);
        const queryUrl = options.query === undefined ? undefined : urlOption('--query', options.query);
        context.progress(`contacting portal ${gatewayUrl} …`);
        const created = await context.manager().createProfile({
          gatewayUrl,
          ...(queryUrl === undefined ? {} : { queryUrl }),
          account: options.account,
          ...(options.description === undefined ? {} : { description: options.description }),
        });
        await showPinned(context);
        context.result(
          {
            account: created.account,
            fingerprint: created.fingerprint,
            deviceId: created.deviceId,
            portal: created.portal,
          },
          [
            `profile created for ${created.account} at ${created.portal.id}`,
            `fingerprint ${created.fingerprint}`,
            `device      ${created.deviceId}`,
          ],
        );
        context.io.stderr(
          'keep a way back if this device is lost: mesh escrow create --threshold 2 --shares 3',
        );
      }),
    );

  profile
    .command('show')
    .description('show the profile this home holds; --verify reads it back from the verified log')
    .option('--verify', "read the profile back from the home portal's log and verify it")
    .option('--via <url-or-id>', 'verify through this pinned peer (query URL, gateway URL or id) instead')
    .option(
      '--proofs <source>',
      "where the proofs come from: tiles (the log's tlog-tiles), json (the query service's answers) or auto (tiles when served)",
      'auto',
    )
    .action(
      context.action(async (options: ShowOptions) => {
        const store = context.store();
        const doc = await readProfileDocument(store);
        if (doc === undefined)
          throw new ClientError(
            'state.missing',
            `${store.homeDir} holds no profile: mesh profile create, mesh device connect or mesh escrow recover`,
            { check: 'profile.json' },
          );
        const summary = {
          status: doc.status,
          account: doc.account,
          fingerprint: doc.master?.profile.id,
          deviceId: doc.device.profile.id,
          portal: doc.portal,
          personalSequence: doc.personal?.profile.sequence,
          devices: doc.personal?.profile.devices.length,
          applications: doc.personal?.profile.applications.map((a) => a.type),
          ...(doc.connection === undefined ? {} : { connection: doc.connection }),
        };
        const lines = [
          `account     ${doc.account} (${doc.status})`,
          ...(doc.master === undefined ? [] : [`fingerprint ${doc.master.profile.id}`]),
          `device      ${doc.device.profile.id}`,
          `portal      ${doc.portal.id} ${doc.portal.gatewayUrl} (query ${doc.portal.queryUrl})`,
          ...(doc.personal === undefined
            ? []
            : [
                `personal    sequence ${doc.personal.profile.sequence}, ${doc.personal.profile.devices.length} device(s), applications: ${doc.personal.profile.applications.map((a) => a.type).join(', ') || 'none'}`,
              ]),
        ];
        if (options.verify !== true && options.via === undefined) {
          context.result(summary, lines);
          return;
        }
        if (doc.master === undefined || doc.personal === undefined)
          throw new ClientError(
            'state.missing',
            `the profile of ${doc.account} is ${doc.status}: nothing to verify`,
          );
        const proofs = PROOF_SOURCES.find((source) => source === options.proofs);
        if (proofs === undefined)
          throw new CliUsageError(
            `--proofs must be one of ${PROOF_SOURCES.join(', ')}, got ${options.proofs}`,
          );
        const trust = await loadPinnedTrust(context);
        const via = options.via === undefined ? trust.home : pinnedPortal(trust, options.via);
        context.progress(`reading the profile from the log at ${via.id} (${via.queryUrl}) …`);
        // The Personal Profile's signing rule is decided by the Master Profile the same log shows.
        const read = (id: string, kind: 'master' | 'personal', master: SignedProfile<MasterProfile>) =>
          untilLogged(context, () =>
            fetchVerifiedProfile(`mmm:${id}:${doc.account}`, {
              trust,
              via,
              store,
              kind,
              known: accountView(master, undefined),
              fetchImpl: context.fetchImpl,
              proofs,
            }),
          );
        const master = await read(doc.master.profile.id, 'master', doc.master);
        const personal = await read(
          doc.personal.profile.id,
          'personal',
          master.signed as SignedProfile<MasterProfile>,
        );
        const verified = [master, personal].map((v) => ({
          id: v.id,
          kind: v.signed.profile.kind,
          sequence: 'sequence' in v.signed.profile ? v.signed.profile.sequence : undefined,
          log: v.log,
          index: v.index,
          checkpointSize: v.checkpoint.size,
          proofSource: v.proofSource,
        }));
        context.result({ ...summary, verified: { via: via.id, profiles: verified } }, [
          ...lines,
          ...verified.map(
            (v) =>
              `verified    ${v.kind} profile sequence ${v.sequence}: entry ${v.index} of ${v.log}'s log, checkpoint size ${v.checkpointSize}, served by ${via.id}, proof from ${v.proofSource}`,
          ),
        ]);
      }),
    );
}

/** How often `profile show --verify` asks again while the log does not hold the profile yet. */
const LOG_POLL_MS = 500;

/**
 * `read()`, asked again while what it meets passes with time (below): a portal answers a request
 * before its log-signer seals it and before its peers cosign the seal, so a profile just written
 * appears, proven, a seal interval and a heartbeat later. Gives up after DEFAULT_LOG_WAIT_MS with
 * the last error. Every other error is thrown at once.
 */
export async function untilLogged<T>(
  context: Pick<ClientCommandContext, 'now' | 'sleep' | 'progress'>,
  read: () => Promise<T>,
): Promise<T> {
  const deadline = context.now() + DEFAULT_LOG_WAIT_MS;
  for (let told = false; ; told = true) {
    try {
      return await read();
    } catch (error) {
      // What passes with time, as the SDK's log check (libs/client/src/log-check.ts) waits for it:
      // not sealed yet (profile.not-found), sealed but not cosigned yet by the quorum of peers
      // (verify.quorum: peers cosign within a heartbeat; found by tls.spec right after a create),
      // or, right after a portal switch, only the left log's value (verify.stale). At the deadline
      // each stands as itself; anything else is a failed check at once.
      const notYet =
        (isClientError(error, 'portal.refused') && refusalCode(error) === 'profile.not-found') ||
        isClientError(error, 'verify.quorum') ||
        isClientError(error, 'verify.stale');
      if (!notYet || context.now() >= deadline) throw error;
      if (!told) context.progress('waiting for the log to include the profile …');
    }
    await context.sleep(LOG_POLL_MS);
  }
}

/** trust.json of this home, or ClientError `state.missing`. */
export async function loadPinnedTrust(context: ClientCommandContext): Promise<PortalTrust> {
  const text = await context.store().read(TRUST_DOCUMENT);
  if (text === undefined)
    throw new ClientError('state.missing', `no ${TRUST_DOCUMENT}: this home has pinned no portal`, {
      check: TRUST_DOCUMENT,
    });
  return trustFromJson(text);
}

/** The pinned portal `name` designates: its id, query URL or gateway URL; a usage error otherwise. */
export function pinnedPortal(trust: PortalTrust, name: string): PinnedPortal {
  const bare = (url: string | undefined) => url?.replace(/\/+$/, '');
  const wanted = bare(name);
  const found = [trust.home, ...trust.peers].find(
    (p) => p.id === name || bare(p.queryUrl) === wanted || bare(p.gatewayUrl) === wanted,
  );
  if (found === undefined)
    throw new CliUsageError(
      `--via ${name} is not a pinned portal of the federation (pinned: ${[trust.home, ...trust.peers]
        .map((p) => `${p.id} ${p.queryUrl}`)
        .join(', ')})`,
    );
  return found;
}

/** Trust on first use: says on stderr what was pinned, for the user to compare out of band. */
async function showPinned(context: ClientCommandContext): Promise<void> {
  const text = await context.store().read(TRUST_DOCUMENT);
  if (text === undefined) return;
  const trust = trustFromJson(text);
  context.io.stderr(
    `pinned portal ${trust.home.id}: log key ${trust.home.verifierKey}, quorum ${trust.quorum}` +
      (trust.peers.length === 0 ? '' : `, peers ${trust.peers.map((p) => p.id).join(', ')}`),
  );
}
