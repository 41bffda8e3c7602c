import type { Command } from 'commander';
import { isClientError, readProfileDocument } from '@cryptomesh/client';
import { CliUsageError } from '../cli-io';
import { escapeControls as shown } from '../terminal-text';
import { catalogSyncLines } from './catalog.command';
import { urlOption, type ClientCommandContext } from './client.commands';

/** How often `mesh device connect` asks ConnectStatus while it waits. */
export const CONNECT_POLL_MS = 1_000;
/** How long `mesh device connect` waits for an administrator unless `--wait` says otherwise. */
export const DEFAULT_CONNECT_WAIT_S = 300;
/** The longest `--wait` accepted: a day. */
const MAX_WAIT_S = 86_400;

interface ConnectOptions {
  readonly portal?: string;
  readonly account?: string;
  readonly query?: string;
  readonly description?: string;
  readonly wait: string;
}

/**
 * `mesh device connect|pending|accept|reject|clear|list|remove|promote|demote` (002 §2.1.1, issue #19): a new device asks to
 * join, shows the witness to compare and waits; an administrator device lists the requests and accepts
 * or rejects them (one, or all at once); devices are listed and removed (which re-encrypts every
 * application to the remaining devices: a removed device cannot read what is written afterwards);
 * administrator rights are granted (`accept --admin`, `promote`) and withdrawn (`demote`).
 */
export function registerDeviceCommands(program: Command, context: ClientCommandContext): void {
  const device = program.command('device').description('connect devices to the profile, and manage them');

  device
    .command('connect')
    .description(
      'ask to connect this device to an account and wait for an administrator; without --portal and --account, keep waiting for the request this home made',
    )
    .option('--portal <url>', "the account's portal (gateway URL)")
    .option('--account <address>', 'the account, e.g. alice@example.com')
    .option('--query <url>', "the portal's query service (default: what the portal announces)")
    .option('--description <text>', 'what this device is called')
    .option(
      '--wait <seconds>',
      'how long to wait for an administrator (0: do not wait)',
      String(DEFAULT_CONNECT_WAIT_S),
    )
    .action(context.action((options: ConnectOptions) => connect(context, options)));

  device
    .command('pending')
    .description('list the connection requests waiting for an administrator')
    .action(
      context.action(async () => {
        context.progress('asking the portal for pending connection requests …');
        const requests = await context.manager().pending();
        context.result(
          { requests },
          requests.length === 0
            ? ['no connection request is waiting']
            : requests.map(
                // Every field came from the portal, the description from whoever asked to connect.
                (r) =>
                  `${shown(r.requestId)}  device ${shown(r.deviceId)}  witness ${shown(r.witness)}  ${shown(r.description)}`,
              ),
        );
      }),
    );

  device
    .command('accept')
    .description('accept a connection request whose witness the new device shows')
    .argument('<request-id>', 'the request, as `mesh device pending` lists it')
    .requiredOption(
      '--witness <witness>',
      'the witness the new device shows; refused unless this device computes the same for the request',
    )
    .option(
      '--admin',
      'also make it an administrator (a new Master Profile: this device must hold the master key)',
    )
    .action(
      context.action(async (requestId: string, options: { witness: string; admin?: boolean }) => {
        context.progress(
          `accepting request ${requestId}${options.admin === true ? ' as an administrator' : ''} …`,
        );
        const { catalogs, ...accepted } = await context
          .manager()
          .accept(requestId, options.witness, { administrator: options.admin === true });
        context.result({ requestId, device: accepted, catalogs }, [
          `accepted device ${shown(accepted.id)}${accepted.description === undefined ? '' : ` (${shown(accepted.description)})`}${accepted.administrator ? ' as an administrator' : ''}`,
          ...catalogSyncLines(catalogs),
        ]);
      }),
    );

  device
    .command('promote')
    .description(
      'make a connected device an administrator: a new Master Profile signed with the master key this device holds',
    )
    .argument('<device-id>', 'the device, as `mesh device list` shows it')
    .action(
      context.action(async (deviceId: string) => {
        context.progress(`granting administrator rights to ${deviceId} …`);
        const device = await context.manager().promote(deviceId);
        context.result({ device }, [`device ${shown(device.id)} is an administrator`]);
      }),
    );

  device
    .command('demote')
    .description(
      "withdraw a device's administrator rights (never the last administrator's); it stays connected",
    )
    .argument('<device-id>', 'the device, as `mesh device list` shows it')
    .action(
      context.action(async (deviceId: string) => {
        context.progress(`withdrawing the administrator rights of ${deviceId} …`);
        const device = await context.manager().demote(deviceId);
        context.result({ device }, [`device ${shown(device.id)} is no longer an administrator`]);
      }),
    );

  device
    .command('reject')
    .description('reject a connection request')
    .argument('<request-id>', 'the request, as `mesh device pending` lists it')
    .action(
      context.action(async (requestId: string) => {
        context.progress(`rejecting request ${requestId} …`);
        await context.manager().reject(requestId);
        context.result({ requestId, rejected: true }, [`rejected request ${requestId}`]);
      }),
    );

  device
    .command('clear')
    .description(
      'reject every pending connection request at once (when strangers filled the account: their addresses cannot ask again for a while)',
    )
    .action(
      context.action(async () => {
        context.progress('rejecting every pending connection request …');
        const rejected = await context.manager().clearPending();
        context.result({ rejected }, [
          rejected === 0
            ? 'no connection request was waiting'
            : `rejected ${rejected} connection request${rejected === 1 ? '' : 's'}`,
        ]);
      }),
    );

  device
    .command('list')
    .description('list the devices connected to the profile')
    .action(
      context.action(async () => {
        context.progress('reading the profile from the portal …');
        const devices = await context.manager().devices();
        context.result(
          { devices },
          devices.map(
            (d) =>
              `${shown(d.id)}${d.administrator ? '  administrator' : ''}${d.self ? '  (this device)' : ''}${d.description === undefined ? '' : `  ${shown(d.description)}`}`,
          ),
        );
      }),
    );

  device
    .command('remove')
    .description('remove a device: it can no longer sign, and cannot read anything written afterwards')
    .argument('<device-id>', 'the device, as `mesh device list` shows it')
    .action(
      context.action(async (deviceId: string) => {
        context.progress(`removing device ${deviceId} and re-encrypting the applications and catalogs …`);
        const { catalogs } = await context.manager().remove(deviceId);
        context.result({ removed: deviceId, catalogs }, [
          `removed device ${deviceId}`,
          ...catalogSyncLines(catalogs),
        ]);
      }),
    );
}

async function connect(context: ClientCommandContext, options: ConnectOptions): Promise<void> {
  const waitS = context.count('--wait', options.wait, 0, MAX_WAIT_S);
  const manager = context.manager();
  let request: { requestId: string; deviceId: string; witness: string; account: string };
  if (options.portal === undefined && options.account === undefined) {
    const doc = await readProfileDocument(context.store());
    if (doc?.status !== 'connecting' || doc.connection === undefined)
      throw new CliUsageError(
        'this home has no connection request to wait for: give --portal URL and --account ADDRESS',
      );
    request = { ...doc.connection, deviceId: doc.device.profile.id, account: doc.account };
  } else {
    if (options.portal === undefined || options.account === undefined)
      throw new CliUsageError('--portal and --account go together');
    const gatewayUrl = urlOption('--portal', options.portal);
    const queryUrl = options.query === undefined ? undefined : urlOption('--query', options.query);
    context.progress(`contacting portal ${gatewayUrl} …`);
    request = await manager.connect({
      gatewayUrl,
      ...(queryUrl === undefined ? {} : { queryUrl }),
      account: options.account,
      ...(options.description === undefined ? {} : { description: options.description }),
    });
  }
  context.io.stderr(
    `connection request ${request.requestId} for ${request.account}: compare the witness ${request.witness} with what \`mesh device pending\` shows on an administrator device`,
  );
  const shown = { ...request };
  if (waitS === 0) {
    context.result({ ...shown, result: 'pending' }, [
      `request ${request.requestId} is waiting for an administrator (witness ${request.witness})`,
    ]);
    return;
  }
  context.progress(`waiting for an administrator to accept (request ${request.requestId}) …`);
  const deadline = context.now() + waitS * 1000;
  for (;;) {
    let status: Awaited<ReturnType<typeof manager.connectStatus>> | undefined;
    try {
      status = await manager.connectStatus();
    } catch (error) {
      // The portal may be restarting: keep asking until the deadline, then report the last error.
      if (!isClientError(error, 'portal.unreachable') || context.now() >= deadline) throw error;
      context.progress(`the portal did not answer (${error.message}); asking again …`);
    }
    if (status?.result === 'accepted') {
      context.result({ ...shown, result: 'accepted', fingerprint: status.fingerprint }, [
        `accepted: this device is connected to ${request.account}`,
        `fingerprint ${status.fingerprint ?? '?'}`,
        `device      ${request.deviceId}`,
      ]);
      return;
    }
    if (status?.result === 'rejected')
      throw new CliUsageError(
        `an administrator rejected this device (request ${request.requestId} for ${request.account})`,
        1,
        'connect.rejected',
      );
    if (context.now() >= deadline)
      throw new CliUsageError(
        `no administrator accepted request ${request.requestId} within ${waitS} s; run \`mesh device connect\` again to keep waiting`,
        1,
        'connect.timeout',
      );
    await context.sleep(Math.min(CONNECT_POLL_MS, Math.max(0, deadline - context.now())));
  }
}
