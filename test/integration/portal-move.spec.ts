import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { accountUdf } from '@cryptomesh/crypto';
import {
  MeshProfileManager,
  fetchVerifiedProfile,
  isClientError,
  loadDeviceKeys,
  loadTrust,
  portalErrorCode,
  requireActiveProfile,
} from '@cryptomesh/client';
import { fromBase64 } from '@cryptomesh/log';
import {
  authoriseRecord,
  buildPersonalProfile,
  decodeRecord,
  encodeRecord,
  readProfileOf,
  type RecordContent,
  type TransactionRecord,
} from '@cryptomesh/mesh';
import {
  ACCOUNT as FIXTURE_ACCOUNT,
  ADMIN,
  countingRandom,
  makeAccount,
} from '../../libs/mesh/test/fixtures';
import { freshHome, mesh, meshJson, startMesh, type RunningMesh } from '../../apps/cli/test/built-mesh';
import { FileClientStore } from '../../apps/cli/src/home/file-client-store';
import { startTestFederation, type Federation } from '../support/federation';
import { cosignersOf, fetchLog, waitFor, type KnownPortal } from '../support/federation-oracle';
import { RoguePortal } from '../support/rogue-portal';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startBroker } = require('../../deploy/kafka/kafka-broker.js') as {
  startBroker: (o?: { log?: (m: string) => void }) => Promise<{ brokers: string; stop: () => Promise<void> }>;
};
import { get, getOk, type ProfileAnswer } from '../support/mirror-client';

/**
 * Issue #14, hole 6 ("Current" is not current) and `mesh account delete`, through the BUILT `mesh`
 * binary and the SDK against the three-portal federation (real PostgreSQL, real Kafka): a profile
 * with two devices at alpha moves to beta (`mesh portal switch`, which logs a MoveAccount at alpha),
 * then the second device is removed at beta. Every member then serves beta's Personal Profile (the
 * highest Sequence; alpha's log ended the account's profiles with the move); the client refuses a
 * genuine but stale value from a lying portal (`verify.stale`); the account at alpha refuses every
 * change, the removed device's included (`account.moved`); and `mesh account delete` deletes the
 * account at beta, which the log shows and the client then cannot act on. A rogue peer (its log
 * written straight to the broker) that logs a change of an account after that account's MoveAccount
 * is caught by every auditor.
 */
const ACCOUNT = 'dave@example.com';
const ACCOUNT_UDF = accountUdf(ACCOUNT);

/** The records of a portal's own log, decoded, up to its latest checkpoint. */
async function recordsOf(portal: KnownPortal): Promise<TransactionRecord[]> {
  const checkpoint = await getOk<string>(portal.queryUrl, '/logs/self/checkpoint');
  const size = Number(checkpoint.split('\n')[1]);
  const records: TransactionRecord[] = [];
  for (let start = 0; start < size; start += 1000) {
    const { entries } = await getOk<{ entries: string[] }>(
      portal.queryUrl,
      `/logs/self/entries?start=${start}&end=${Math.min(size, start + 1000)}`,
    );
    for (const entry of entries) records.push(decodeRecord(fromBase64(entry, 'entry', 'proof.invalid')));
  }
  return records;
}

/** The device ids a served Personal Profile lists, and its sequence. */
function personalOf(answer: ProfileAnswer): { sequence: number; devices: string[] } {
  const { profile } = readProfileOf(answer.profile, 'personal');
  return { sequence: profile.sequence, devices: profile.devices.map((d) => d.id) };
}

/**
 * A lying query service: it serves `answer` — a genuine, once-current answer of alpha — for that
 * profile, and relays everything else (other profiles, checkpoints, consistency proofs) to alpha's
 * real one.
 */
async function lyingQuery(
  upstream: string,
  answer: () => ProfileAnswer,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === `/profiles/${answer().id}`) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer()));
        return;
      }
      const relayed = await fetch(`${upstream.replace(/\/$/, '')}${req.url ?? '/'}`);
      res
        .writeHead(relayed.status, { 'content-type': relayed.headers.get('content-type') ?? 'text/plain' })
        .end(Buffer.from(await relayed.arrayBuffer()));
    })().catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

describe('a profile moved between portals: which value is current (issue #14, hole 6)', () => {
  const homes = { one: freshHome('move-one'), two: freshHome('move-two') };
  let federation: Federation;
  let A: KnownPortal;
  let B: KnownPortal;
  let C: KnownPortal;
  let personalId: string;
  let removedDevice: string;
  let before: ProfileAnswer;
  let connecting: RunningMesh | undefined;
  let lying: Server | undefined;
  let broker: Awaited<ReturnType<typeof startBroker>>;
  let rogue: RoguePortal;

  beforeAll(async () => {
    broker = await startBroker({ log: () => undefined });
    rogue = new RoguePortal(`rogue-${Date.now().toString(36)}`, broker.brokers.split(','));
    await rogue.connect();
    federation = await startTestFederation({
      kafkaBrokers: broker.brokers,
      extraPeers: [rogue.peer],
      env: { SEAL_INTERVAL_MS: 300, HEARTBEAT_MS: 2_000, LOG_LEVEL: 'warn' },
    });
    const portals: KnownPortal[] = federation.portals.map((p) => ({ ...p }));
    [A, B, C] = portals as [KnownPortal, KnownPortal, KnownPortal];
  }, 240_000);

  afterAll(async () => {
    if (connecting?.child.exitCode === null) connecting.child.kill('SIGKILL');
    await new Promise((resolve) => (lying === undefined ? resolve(undefined) : lying.close(resolve)));
    await rogue?.close().catch(() => undefined);
    await federation?.stop();
    await broker?.stop();
    for (const home of Object.values(homes)) rmSync(home, { recursive: true, force: true });
  }, 120_000);

  it('creates the profile at alpha with a second device', async () => {
    await meshJson(homes.one, ['profile', 'create', '--portal', A.gatewayUrl, '--account', ACCOUNT]);
    connecting = startMesh(homes.two, [
      '--json',
      'device',
      'connect',
      '--portal',
      A.gatewayUrl,
      '--account',
      ACCOUNT,
      '--wait',
      '60',
      '--description',
      'old laptop',
    ]);
    const requestId = await waitFor('the connection request to be pending', async () => {
      const pending = await meshJson<{ requests: Array<{ requestId: string }> }>(homes.one, [
        'device',
        'pending',
      ]);
      return pending.requests[0]?.requestId;
    });
    // The witness the new device shows, compared by the administrator (issue #14, hole 1).
    const witness = await waitFor('the new device to show its witness', async () =>
      Promise.resolve(/compare the witness (\S+)/.exec(connecting!.stderr())?.[1]),
    );
    const accepted = await meshJson<{ device: { id: string } }>(homes.one, [
      'device',
      'accept',
      requestId,
      '--witness',
      witness,
    ]);
    removedDevice = accepted.device.id;
    expect((await connecting.done).code).toBe(0);
    await meshJson(homes.one, [
      'password',
      'add',
      'bank.example',
      '--username',
      'dave',
      '--password',
      'at alpha',
    ]);

    const doc = await requireActiveProfile(new FileClientStore(homes.one));
    personalId = doc.personal.profile.id;
    // What alpha serves now — once cosigned to the quorum the client pinned (⌈3 peers / 2⌉ = 2 here:
    // beta, gamma and the rogue peer), a lying portal can replay it later.
    const { quorum } = (await loadTrust(new FileClientStore(homes.one)))!;
    expect(quorum).toBeGreaterThan(0);
    before = await waitFor(
      "alpha's current Personal Profile, cosigned",
      async () => {
        const answer = await getOk<ProfileAnswer>(A.queryUrl, `/profiles/${personalId}`);
        return personalOf(answer).devices.includes(removedDevice) &&
          cosignersOf(answer.checkpoint, [B, C]).length >= quorum
          ? answer
          : undefined;
      },
      60_000,
    );
    expect(before.log).toBe('self');
  }, 180_000);

  it('switches to beta, which closes the account at alpha with a signed MoveAccount in its log', async () => {
    const switched = await meshJson<{ portal: { id: string }; oldAccountClosed: boolean }>(homes.one, [
      'portal',
      'switch',
      B.gatewayUrl,
    ]);
    expect(switched).toMatchObject({ portal: { id: B.id }, oldAccountClosed: true });
    const move = await waitFor("the MoveAccount sealed in alpha's log", async () =>
      (await recordsOf(A)).find((r) => r.operation === 'MoveAccount' && r.account === ACCOUNT_UDF),
    );
    expect(move).toMatchObject({ to: B.origin });
  }, 120_000);

  it("removes the second device at beta; alpha, beta and gamma all serve beta's Personal Profile", async () => {
    // No catalog was used: the removal re-encrypts none (and creates no catalog key).
    expect(await meshJson(homes.one, ['device', 'remove', removedDevice])).toEqual({
      removed: removedDevice,
      catalogs: {
        rewritten: { contact: 0, application: 0, credential: 0 },
        tombstones: { contact: 0, application: 0, credential: 0 },
      },
    });
    const current = (await requireActiveProfile(new FileClientStore(homes.one))).personal;
    expect(current.profile.devices.map((d) => d.id)).not.toContain(removedDevice);
    expect(current.profile.sequence).toBeGreaterThan(personalOf(before).sequence);

    for (const portal of [A, B, C]) {
      const answer = await waitFor(
        `${portal.id} to serve beta's current Personal Profile`,
        async () => {
          const served = await getOk<ProfileAnswer>(portal.queryUrl, `/profiles/${personalId}`);
          return personalOf(served).sequence === current.profile.sequence ? served : undefined;
        },
        60_000,
      );
      expect(answer.log).toBe(portal.id === B.id ? 'self' : B.id);
      expect(answer.profile).toEqual({ ...current.jws });
      expect(personalOf(answer).devices).not.toContain(removedDevice);
    }

    // The client verifies it through beta's log, and remembers its sequence.
    const shown = await meshJson<{ verified: { profiles: Array<{ kind: string; log: string }> } }>(
      homes.one,
      ['profile', 'show', '--verify'],
    );
    expect(shown.verified.profiles.map((p) => p.log)).toEqual([B.id, B.id]);
  }, 180_000);

  it("the client refuses alpha's stale Personal Profile served by a lying portal (verify.stale)", async () => {
    const liar = await lyingQuery(A.queryUrl, () => before);
    lying = liar.server;
    const store = new FileClientStore(homes.one);
    const trust = (await loadTrust(store))!;
    const alpha = trust.peers.find((p) => p.id === A.id)!;
    let refusal: unknown;
    try {
      await fetchVerifiedProfile(personalId, {
        trust,
        via: { ...alpha, queryUrl: liar.url },
        store,
        kind: 'personal',
      });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toMatchObject({ code: 'verify.stale', portal: A.id, check: 'current home' });
    expect(isClientError(refusal, 'verify.stale')).toBe(true);
    expect((refusal as Error).message).toContain(`${A.id}'s log, which the account left for ${B.id}`);
    // The same answer is genuine: only its currency is wrong — alpha's own honest answer now is beta's.
    const honest = await fetchVerifiedProfile(personalId, { trust, via: alpha, store, kind: 'personal' });
    expect(honest.log).toBe(B.id);
  }, 60_000);

  it('the account at alpha refuses every change, one signed by the removed device included (account.moved)', async () => {
    // The removed device never switched: its home is still alpha.
    const run = await mesh(homes.two, [
      'password',
      'add',
      'shop.example',
      '--username',
      'x',
      '--password',
      'y',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`moved to ${B.origin.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    expect(run.stderr).toMatch(/\[portal\.refused\]$/m);

    // A logged change signed by the removed device, sent straight to alpha's gateway.
    const store = new FileClientStore(homes.two);
    const manager = new MeshProfileManager(store);
    const doc = await requireActiveProfile(store);
    const session = await manager.sessionFor(doc, await loadDeviceKeys(store), false);
    let code: string | undefined;
    try {
      await session.publish('update', doc.personal);
    } catch (error) {
      code = portalErrorCode(error);
    }
    expect(code).toBe('account.moved');
    expect(
      (await recordsOf(A))
        .filter((r) => r.account === ACCOUNT_UDF)
        .map((r) => r.operation)
        .at(-1),
    ).toBe('MoveAccount');
  }, 60_000);

  it('mesh account delete needs --yes, then deletes the account at beta: logged, and the client cannot act', async () => {
    const unconfirmed = await mesh(homes.one, ['account', 'delete']);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/confirm it with --yes/);

    expect(await meshJson(homes.one, ['account', 'delete', '--yes'])).toMatchObject({
      deleted: ACCOUNT,
      portal: { id: B.id },
    });
    const deletion = await waitFor("the DeleteAccount sealed in beta's log", async () =>
      (await recordsOf(B)).find((r) => r.operation === 'DeleteAccount' && r.account === ACCOUNT_UDF),
    );
    expect(deletion.operation).toBe('DeleteAccount');

    const after = await mesh(homes.one, ['password', 'get', 'bank.example']);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/\[portal\.refused\]$/m);
    const answer = await get(B.queryUrl, `/profiles/${personalId}`);
    expect(answer.status).toBe(404);
  }, 120_000);

  it('a portal that logs a change after a MoveAccount is caught by every auditor (rule account.moved), not mirrored', async () => {
    // Signed when the rogue seals them: every auditor checks each request's time against its seal's.
    const time = rogue.log.fixture.timeMs;
    const account = await makeAccount(countingRandom(9000), rogue.origin, time);
    const sign = (content: RecordContent) =>
      authoriseRecord(content, ADMIN.signature, {
        portal: rogue.origin,
        time,
        random: countingRandom(9100),
      }).then(encodeRecord);
    const moved = rogue.log.seal([
      encodeRecord(account.create),
      await sign({ operation: 'MoveAccount', account: FIXTURE_ACCOUNT, to: B.origin }),
    ]);
    await rogue.publish(moved);
    for (const portal of [A, B, C])
      await waitFor(
        `${portal.id} mirrors the rogue's move`,
        async () =>
          (await fetchLog(portal.queryUrl, rogue.id, { ...rogue.peer, gatewayUrl: '' }))?.seal.size === 2,
        60_000,
      );
    // After the move the old portal cannot log a change of the account, whoever signed it.
    const next = await buildPersonalProfile(
      { master: account.master.profile.id, sequence: 1, devices: [ADMIN] },
      ADMIN.signature,
    );
    await rogue.publish(
      rogue.log.seal([
        await sign({
          operation: 'Publish',
          account: FIXTURE_ACCOUNT,
          action: 'update',
          id: next.profile.id,
          value: next,
        }),
      ]),
    );
    for (const portal of [A, B, C]) {
      const finding = await waitFor(
        `${portal.id} records rule/account.moved against the rogue`,
        async () => {
          const { findings } = await getOk<{
            findings: Array<{ kind: string; code: string; evidence: unknown }>;
          }>(portal.queryUrl, `/findings?subject=${rogue.id}&limit=1000`);
          return findings.find((f) => f.kind === 'rule' && f.code === 'account.moved');
        },
        60_000,
      );
      expect(finding.evidence).toMatchObject({ index: 2 });
      expect((await fetchLog(portal.queryUrl, rogue.id, { ...rogue.peer, gatewayUrl: '' }))?.seal.size).toBe(
        2,
      );
    }
  }, 180_000);
});
