import { nodeEd25519 } from '@cryptomesh/crypto';
import { fromBase64, openSeal, parseVerifierKey, toBase64, verifyEquivocation } from '@cryptomesh/log';
import { decodeRecord, readRequest } from '@cryptomesh/mesh';
import { createAccountEntry } from '../../libs/mesh/test/fixtures';
import { queryDatabase } from '../support/db-snapshot';
import { startTestFederation, type Federation } from '../support/federation';
import {
  checkInclusion,
  cosignersOf,
  fetchLog,
  waitFor,
  type KnownPortal,
} from '../support/federation-oracle';
import { TestAccount, post } from '../support/mesh-client';
import { scrape } from '../support/prometheus-text';
import { RoguePortal } from '../support/rogue-portal';
import { runScriptedSession } from '../support/scripted-session';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startBroker } = require('../../deploy/kafka/kafka-broker.js') as {
  startBroker: (o?: { log?: (m: string) => void }) => Promise<{
    brokers: string;
    stop: () => Promise<void>;
    restart: (o?: { hard?: boolean; downMs?: number }) => Promise<void>;
  }>;
};

/**
 * Issue #6's acceptance, end to end: three portals, each as its four built services, on the real
 * PostgreSQL and a real Kafka broker of this file's own (it is restarted mid-traffic), plus a rogue
 * portal played by a harness that holds its log key.
 */
describe('InterMesh federation: three portals mirror, audit and cosign each other', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>;
  let federation: Federation;
  let rogue: RoguePortal;
  /** Two more rogues (issue #14 hole 3): one re-logs an older signed update, one resurrects an account. */
  let relogger: RoguePortal;
  let resurrector: RoguePortal;
  /** And one (issue #14 hole 2) that logs a request its user signed for another portal. */
  let rebinder: RoguePortal;
  let malformer: RoguePortal;
  let portals: KnownPortal[];
  let A: KnownPortal;
  let B: KnownPortal;
  let C: KnownPortal;
  const accounts = new Map<string, TestAccount>();

  beforeAll(async () => {
    broker = await startBroker({ log: () => undefined });
    const tag = Date.now().toString(36);
    rogue = new RoguePortal(`rogue-${tag}`, broker.brokers.split(','));
    relogger = new RoguePortal(`relogger-${tag}`, broker.brokers.split(','));
    resurrector = new RoguePortal(`resurrector-${tag}`, broker.brokers.split(','));
    rebinder = new RoguePortal(`rebinder-${tag}`, broker.brokers.split(','));
    malformer = new RoguePortal(`malformer-${tag}`, broker.brokers.split(','));
    for (const r of [rogue, relogger, resurrector, rebinder, malformer]) await r.connect();
    federation = await startTestFederation({
      kafkaBrokers: broker.brokers,
      extraPeers: [rogue.peer, relogger.peer, resurrector.peer, rebinder.peer, malformer.peer],
      env: {
        LOG_LEVEL: 'warn',
        SEAL_INTERVAL_MS: 300,
        HEARTBEAT_MS: 2_000,
        STALE_AFTER_MS: 8_000,
        CATCHUP_INTERVAL_MS: 1_000,
        CATCHUP_TIMEOUT_MS: 2_000,
      },
    });
    portals = federation.portals.map((p) => ({ ...p }));
    [A, B, C] = portals as [KnownPortal, KnownPortal, KnownPortal];
  }, 240_000);

  afterAll(async () => {
    for (const r of [rogue, relogger, resurrector, rebinder, malformer])
      await r?.close().catch(() => undefined);
    await federation?.stop();
    await broker?.stop();
  }, 120_000);

  const others = (p: KnownPortal) => portals.filter((q) => q.id !== p.id);

  /** An account created and used through `portal`'s gateway (the issue #5 session, then one more publish). */
  async function traffic(portal: KnownPortal, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const address = `u${accounts.size}-${portal.id}@example.com`;
      await runScriptedSession(portal.gatewayUrl, address);
      const account = await TestAccount.create(
        `p${accounts.size}-${portal.id}@example.com`,
        undefined,
        portal.origin,
      );
      const answer = await post(portal.gatewayUrl, 'CreateAccount', await account.createAccount());
      expect(answer.status).toBe(200);
      accounts.set(portal.id + ':' + accounts.size, account);
    }
  }

  /** Every portal's mirror of every other portal equals that portal's own log, byte for byte, and verifies. */
  async function mirrorsConverge(timeoutMs = 30_000): Promise<void> {
    for (const owner of portals) {
      const own = await fetchLog(owner.queryUrl, 'self', owner);
      if (own === undefined) throw new Error(`${owner.id} has no log`);
      for (const holder of others(owner)) {
        await waitFor(
          `${holder.id} mirrors ${owner.id} up to ${own.seal.size}`,
          async () => {
            const mirror = await fetchLog(holder.queryUrl, owner.id, owner);
            if (mirror === undefined || mirror.seal.size < own.seal.size) return false;
            const latest = await fetchLog(owner.queryUrl, 'self', owner);
            // Byte-identical: the mirror is a prefix of the owner's log at the mirror's size.
            expect(mirror.entries.map(toBase64)).toEqual(
              latest!.entries.slice(0, mirror.seal.size).map(toBase64),
            );
            return true;
          },
          timeoutMs,
        );
      }
    }
  }

  it('mirrors every log at every peer, byte for byte and verified, and cosigns every checkpoint twice', async () => {
    await Promise.all([traffic(A, 2), traffic(B, 2), traffic(C, 2)]);
    await mirrorsConverge();
    for (const portal of portals) {
      const cosigned = await waitFor(`${portal.id}'s checkpoint carries two peer cosignatures`, async () => {
        const log = await fetchLog(portal.queryUrl, 'self', portal);
        const cosigners = cosignersOf(log!.checkpoint, others(portal));
        return cosigners.length === 2 ? cosigners : false;
      });
      expect(cosigned).toEqual(
        others(portal)
          .map((p) => p.id)
          .sort(),
      );
    }
    const federationView = (await (await fetch(`${B.queryUrl}/federation`)).json()) as {
      peers: Array<{
        id: string;
        head: { size: number } | null;
        cosignatures: { given: number; received: number };
      }>;
    };
    const ofA = federationView.peers.find((p) => p.id === A.id)!;
    expect(ofA.head?.size).toBeGreaterThan(0);
    expect(ofA.cosignatures.given).toBeGreaterThan(0);
    expect(ofA.cosignatures.received).toBeGreaterThan(0);
  }, 180_000);

  it("serves A's users' profiles from B and C while A is down, proven against A's cosigned checkpoint", async () => {
    const before = await fetchLog(A.queryUrl, 'self', A);
    const [, account] = [...accounts.entries()].find(([key]) => key.startsWith(`${A.id}:`))!;
    // Let B and C mirror A's latest seal and collect each other's cosignature on it.
    await waitFor('B and C hold a cosigned mirror of A', async () => {
      for (const holder of [B, C]) {
        const mirror = await fetchLog(holder.queryUrl, A.id, A);
        if (mirror === undefined || mirror.seal.size < before!.seal.size) return false;
      }
      return true;
    });
    await federation.stopPortal(A.id);
    for (const holder of [B, C]) {
      const answer = await waitFor(
        `${holder.id} serves A's profile with a quorum-cosigned proof`,
        async () => {
          const res = await fetch(`${holder.queryUrl}/profiles/${account.master.profile.id}`);
          if (res.status !== 200) return false;
          const body = (await res.json()) as {
            log: string;
            entry: string;
            proof: { index: number; size: number; path: string[] };
            checkpoint: string;
          };
          return cosignersOf(body.checkpoint, [B, C]).length === 2 ? body : false;
        },
      );
      expect(answer.log).toBe(A.id);
      const { seal } = openSeal(answer.checkpoint, parseVerifierKey(A.verifierKey), nodeEd25519, A.origin);
      checkInclusion(fromBase64(answer.entry), answer.proof, seal);
      expect(cosignersOf(answer.checkpoint, [B, C])).toEqual([B.id, C.id].sort());
    }
    // Traffic while A is down, then A comes back: nothing of A is lost, and A catches up on B and C.
    await Promise.all([traffic(B, 1), traffic(C, 1)]);
    await federation.startPortal(A.id);
    const after = await fetchLog(A.queryUrl, 'self', A);
    expect(after!.entries.slice(0, before!.seal.size).map(toBase64)).toEqual(before!.entries.map(toBase64));
    await mirrorsConverge(60_000);
  }, 240_000);

  it('loses and duplicates nothing across a broker restart and a SIGKILL of every replication service', async () => {
    const load = Promise.all([traffic(A, 2), traffic(B, 2), traffic(C, 2)]);
    await new Promise((r) => setTimeout(r, 1_500));
    await broker.restart({ downMs: 2_000 });
    for (const portal of portals) {
      await federation.stopService(portal.id, 'replication', 'SIGKILL');
      await federation.startService(portal.id, 'replication');
    }
    await load;
    await mirrorsConverge(90_000);
    for (const holder of portals) {
      const rows = await queryDatabase<{
        peer: string;
        parts: string;
        max: string;
        entries: string;
        size: string;
      }>(
        federation.portal(holder.id).databaseUrl,
        `SELECT s.peer, count(*)::text AS parts, max(s.part)::text AS max,
                (SELECT count(*) FROM mirror_entries e WHERE e.peer = s.peer)::text AS entries,
                max(s.size)::text AS size
           FROM mirror_seals s GROUP BY s.peer`,
      );
      for (const row of rows.filter((r) => r.peer !== rogue.id)) {
        expect({ peer: row.peer, parts: Number(row.parts) }).toEqual({
          peer: row.peer,
          parts: Number(row.max) + 1,
        });
        expect({ peer: row.peer, entries: Number(row.entries) }).toEqual({
          peer: row.peer,
          entries: Number(row.size),
        });
      }
      // An honest federation gives no finding but stale ones: A's downtime, and a portal that sealed
      // nothing for STALE_AFTER_MS while the broker and the services restarted on a busy machine.
      // Each ends with the subject's next seal (heartbeats every HEARTBEAT_MS): waited for.
      const findings = () =>
        queryDatabase<{ subject: string; kind: string; status: string; code: string }>(
          federation.portal(holder.id).databaseUrl,
          `SELECT subject, kind, status, code FROM findings WHERE subject <> $1`,
          [rogue.id],
        );
      expect((await findings()).filter((f) => f.kind !== 'stale')).toEqual([]);
      await waitFor(`${holder.id}: every stale finding resolved`, async () =>
        (await findings()).every((f) => f.status !== 'open'),
      );
    }
  }, 300_000);

  describe('a rogue portal', () => {
    const mirrorRows = async (portal: KnownPortal, of: RoguePortal = rogue) => {
      const url = federation.portal(portal.id).databaseUrl;
      const tables = [
        'mirror_entries',
        'mirror_tree_nodes',
        'mirror_seals',
        'mirror_heads',
        'mirror_profile_index',
      ];
      const out: Record<string, string[]> = {};
      for (const table of tables) {
        const rows = await queryDatabase<{ row: string }>(
          url,
          `SELECT row_to_json(t)::text AS row FROM ${table} t WHERE peer = $1`,
          [of.id],
        );
        out[table] = rows.map((r) => r.row).sort();
      }
      return out;
    };
    type FindingJson = {
      id: string;
      kind: string;
      code: string;
      reporter: string;
      evidence: unknown;
      status: string;
      verified: boolean;
    };
    const findingsAt = async (portal: KnownPortal, subject = rogue.id) => {
      const res = await fetch(`${portal.queryUrl}/findings?subject=${subject}&limit=1000`);
      return ((await res.json()) as { findings: FindingJson[] }).findings;
    };
    const expectFindingEverywhere = async (kind: string, code: string, of: RoguePortal = rogue) => {
      for (const portal of portals) {
        await waitFor(`${portal.id} records ${kind}/${code} against ${of.id}`, async () =>
          // Verified here: this portal's own audit found it (a peer's report of it may have come first).
          (await findingsAt(portal, of.id)).some((f) => f.kind === kind && f.code === code && f.verified),
        );
      }
    };
    /** Each portal's replication service: transport errors counted about `of`. */
    const transportErrors = async (of: RoguePortal = rogue) =>
      Promise.all(
        portals.map(async (portal) =>
          (await scrape(federation.portal(portal.id).urls.replication)).sum(
            'intermesh_mirror_transport_errors_total',
            { peer: of.id },
          ),
        ),
      );
    const expectTransportErrorsEverywhere = async (before: number[], of: RoguePortal = rogue) => {
      await waitFor(`every portal counts a new transport error about ${of.id}`, async () =>
        (await transportErrors(of)).every((n, i) => n > before[i]!),
      );
    };
    /** Every portal mirrors `of` up to `part`, and gave it cosignatures for exactly parts 0..part. */
    const expectMirroredAndCosigned = async (of: RoguePortal, part: number) => {
      for (const portal of portals) {
        await waitFor(`${portal.id} mirrors ${of.id}'s part ${part}`, async () => {
          const mirror = await fetchLog(portal.queryUrl, of.id, { ...of.peer, gatewayUrl: '' });
          return mirror !== undefined && mirror.seal.part.index === part;
        });
        const given = await queryDatabase<{ part: string }>(
          federation.portal(portal.id).databaseUrl,
          `SELECT part::text FROM cosignatures WHERE subject = $1 AND witness = $2`,
          [of.id, portal.id],
        );
        expect(given.map((r) => Number(r.part)).sort()).toEqual([...Array(part + 1).keys()]);
      }
    };

    let p0: Awaited<ReturnType<RoguePortal['nextPart']>>;
    let p1: typeof p0;
    let p2: typeof p0;
    let p3: typeof p0;

    it('is mirrored and cosigned while it is honest', async () => {
      p0 = await rogue.nextPart(2);
      p1 = await rogue.nextPart(1);
      p2 = await rogue.nextPart(2);
      p3 = await rogue.nextPart(1);
      await rogue.publish(p0);
      await rogue.publish(p1);
      for (const portal of portals) {
        await waitFor(`${portal.id} mirrors the rogue's part 1`, async () => {
          const mirror = await fetchLog(portal.queryUrl, rogue.id, { ...rogue.peer, gatewayUrl: '' });
          return mirror !== undefined && mirror.seal.part.index === 1;
        });
      }
    }, 60_000);

    it('signs a finding only about what its valid seal covers: a broken chain is one; forged entries, a wrong key, a reordered part and junk are counted transport errors', async () => {
      const before = await Promise.all(portals.map((p) => mirrorRows(p)));
      const findingsBefore = await Promise.all(portals.map((p) => findingsAt(p)));
      // A validly signed seal whose chain does not extend the previous one: the rogue's own signature proves it.
      await rogue.publish(rogue.resealed(p2, { chain: new Uint8Array(32) }));
      await expectFindingEverywhere('bad-part', 'verify.chain');
      // Entries that are not the ones the seal covers (a man in the middle, a forged broker message).
      let counted = await transportErrors();
      await rogue.publish({ ...p2, entries: [p2.entries[1]!, p2.entries[0]!] });
      await expectTransportErrorsEverywhere(counted);
      // Rule-breaking entries (an account created twice) under a seal by a key that is not the rogue's.
      counted = await transportErrors();
      const forged = rogue.signedByAnotherKey({ ...p2, entries: [p0.entries[0]!, p0.entries[0]!] });
      await rogue.publish(forged);
      await expectTransportErrorsEverywhere(counted);
      // A part out of order, and junk on the topic.
      counted = await transportErrors();
      await rogue.publish(p3);
      await expectTransportErrorsEverywhere(counted);
      counted = await transportErrors();
      await rogue.send([{ key: rogue.id, type: 'seal', value: new TextEncoder().encode('{"v":1,"type":') }]);
      await expectTransportErrorsEverywhere(counted);
      // None of these is a finding: the chain finding is the only new one at every portal.
      for (const [i, portal] of portals.entries()) {
        const known = new Set(findingsBefore[i]!.map((f) => f.id));
        // (A rogue that stops sealing is also reported stale: not what this test is about.)
        const added = (await findingsAt(portal)).filter((f) => !known.has(f.id) && f.kind !== 'stale');
        expect(added.map((f) => `${f.kind}/${f.code}/${String(f.verified)}`)).toEqual([
          'bad-part/verify.chain/true',
        ]);
      }
      expect(await Promise.all(portals.map((p) => mirrorRows(p)))).toEqual(before);
      // Honest peers' mirroring goes on meanwhile.
      await traffic(A, 1);
      await mirrorsConverge();
    }, 180_000);

    it('re-logging an older signed update (a Device Profile rolled back) is a rule finding at every peer, not mirrored, not cosigned', async () => {
      const r = relogger;
      const n = r.log.nextAccountNumber;
      await r.publish(r.sealNext(await r.log.entries(1)));
      const v1 = await r.log.accountRequest(n, { kind: 'update-device', description: 'v1' }, 1);
      const v2 = await r.log.accountRequest(n, { kind: 'update-device', description: 'v2' }, 2);
      await r.publish(r.sealNext([v1, v2]));
      await expectMirroredAndCosigned(r, 1);
      const before = await Promise.all(portals.map((p) => mirrorRows(p, r)));
      // The rogue holds its log key: it re-logs v1, exactly as signed, under a valid seal.
      const attack = r.sealNext([v1]);
      await r.publish(attack);
      await expectFindingEverywhere('rule', 'request.replayed', r);
      for (const portal of portals) {
        const finding = (await findingsAt(portal, r.id)).find((f) => f.code === 'request.replayed')!;
        expect(finding.evidence).toMatchObject({ seal: attack.seal, index: 3, entry: toBase64(v1) });
      }
      expect(await Promise.all(portals.map((p) => mirrorRows(p, r)))).toEqual(before);
      await expectMirroredAndCosigned(r, 1);
      const status = (await (await fetch(`${A.queryUrl}/federation`)).json()) as {
        peers: Array<{ id: string; openFindings: number }>;
      };
      expect(status.peers.find((p) => p.id === r.id)?.openFindings).toBeGreaterThanOrEqual(1);
    }, 120_000);

    it('re-creating a deleted account is a rule finding at every peer, not mirrored, not cosigned', async () => {
      const r = resurrector;
      const n = r.log.nextAccountNumber;
      await r.publish(r.sealNext(await r.log.entries(1)));
      await r.publish(r.sealNext([await r.log.accountRequest(n, { kind: 'delete' }, 1)]));
      await expectMirroredAndCosigned(r, 1);
      const before = await Promise.all(portals.map((p) => mirrorRows(p, r)));
      // A CreateAccount of the deleted account, freshly signed by its own keys.
      const again = await r.log.accountRequest(n, { kind: 'create' }, 7);
      const attack = r.sealNext([again]);
      await r.publish(attack);
      await expectFindingEverywhere('rule', 'account.deleted', r);
      for (const portal of portals) {
        const finding = (await findingsAt(portal, r.id)).find((f) => f.code === 'account.deleted')!;
        expect(finding.evidence).toMatchObject({ seal: attack.seal, index: 2, entry: toBase64(again) });
      }
      expect(await Promise.all(portals.map((p) => mirrorRows(p, r)))).toEqual(before);
      await expectMirroredAndCosigned(r, 1);
    }, 120_000);

    it("logging a user's request signed for another portal (one of A's, replayed) is a rule finding at every peer, not mirrored, not cosigned", async () => {
      const r = rebinder;
      await r.publish(r.sealNext(await r.log.entries(1)));
      await expectMirroredAndCosigned(r, 0);
      const before = await Promise.all(portals.map((p) => mirrorRows(p, r)));
      // A genuine request: the newest CreateAccount A's gateway accepted, signed by its user for A.
      const own = await fetchLog(A.queryUrl, 'self', A);
      const taken = [...own!.entries].reverse().find((e) => decodeRecord(e).operation === 'CreateAccount')!;
      expect(readRequest(decodeRecord(taken).authorisation).portal).toBe(A.origin);
      // The rogue holds its own log key: it logs that request, exactly as signed, under a valid seal.
      const attack = r.sealNext([taken]);
      await r.publish(attack);
      await expectFindingEverywhere('rule', 'request.wrong-portal', r);
      for (const portal of portals) {
        const finding = (await findingsAt(portal, r.id)).find((f) => f.code === 'request.wrong-portal')!;
        expect(finding.evidence).toMatchObject({ seal: attack.seal, index: 1, entry: toBase64(taken) });
      }
      expect(await Promise.all(portals.map((p) => mirrorRows(p, r)))).toEqual(before);
      await expectMirroredAndCosigned(r, 0);
      // Honest peers' mirroring goes on meanwhile.
      await traffic(A, 1);
      await mirrorsConverge();
    }, 180_000);

    it('logging a request whose signed Nonce holds a NUL is a rule finding at every peer (request.malformed): nothing of it stored, nothing stalls', async () => {
      const r = malformer;
      await r.publish(r.sealNext(await r.log.entries(1)));
      await expectMirroredAndCosigned(r, 0);
      const before = await Promise.all(portals.map((p) => mirrorRows(p, r)));
      // Signed by the account's own device: only its Nonce's form is wrong, and PostgreSQL refuses a NUL
      // in text, so a mirror that stored the nonce would fail on it.
      const entry = await createAccountEntry(r.log.nextAccountNumber, {
        time: r.log.fixture.timeMs,
        portal: r.origin,
        nonce: 'AAAAAAAAAAAAAAAAAAAAA\u0000',
      });
      const attack = r.sealNext([entry]);
      await r.publish(attack);
      await expectFindingEverywhere('rule', 'request.malformed', r);
      for (const portal of portals) {
        const finding = (await findingsAt(portal, r.id)).find((f) => f.code === 'request.malformed')!;
        expect(finding.evidence).toMatchObject({ seal: attack.seal, index: 1, entry: toBase64(entry) });
      }
      expect(await Promise.all(portals.map((p) => mirrorRows(p, r)))).toEqual(before);
      await expectMirroredAndCosigned(r, 0);
      // Every mirror goes on: the honest portals' new entries are mirrored meanwhile.
      await traffic(B, 1);
      await mirrorsConverge();
    }, 180_000);

    it("a peer's forged rule finding is shown as an unverified claim, not counted on /federation", async () => {
      const evidence = { seal: 'not a seal', index: 0, entry: toBase64(new TextEncoder().encode('{}')) };
      const id = await rogue.reportFinding(A.id, 'rule', 'request.replayed', evidence);
      for (const portal of others(A)) {
        await waitFor(`${portal.id} stores the rogue's claim against ${A.id}`, async () =>
          (await findingsAt(portal, A.id)).some((f) => f.id === id),
        );
        const claim = (await findingsAt(portal, A.id)).find((f) => f.id === id)!;
        expect(claim).toMatchObject({ reporter: rogue.id, verified: false, status: 'open' });
        const status = (await (await fetch(`${portal.queryUrl}/federation`)).json()) as {
          peers: Array<{ id: string; openFindings: number; unverifiedClaims: number }>;
        };
        const a = status.peers.find((p) => p.id === A.id)!;
        expect(a.openFindings).toBe(0);
        expect(a.unverifiedClaims).toBeGreaterThanOrEqual(1);
      }
    }, 60_000);

    it('is caught equivocating by every honest peer, which keeps both seals and stops cosigning it', async () => {
      const before = await Promise.all(portals.map((p) => mirrorRows(p)));
      await rogue.publish(rogue.resealed(p1, { timeMs: p1.value.timeMs + 1 }));
      await expectFindingEverywhere('equivocation', 'seal.conflict');
      for (const portal of portals) {
        const finding = (await findingsAt(portal)).find((f) => f.kind === 'equivocation')!;
        const [first, second] = verifyEquivocation(
          finding.evidence,
          nodeEd25519,
          parseVerifierKey(rogue.peer.verifierKey),
        );
        expect(first.part.index).toBe(1);
        expect(second.part.index).toBe(1);
      }
      expect(await Promise.all(portals.map((p) => mirrorRows(p)))).toEqual(before);
      // Its next valid part is still verified and mirrored (as evidence), but no longer cosigned.
      await rogue.publish(p2);
      for (const portal of portals) {
        await waitFor(`${portal.id} mirrors the rogue's part 2`, async () => {
          const mirror = await fetchLog(portal.queryUrl, rogue.id, { ...rogue.peer, gatewayUrl: '' });
          return mirror !== undefined && mirror.seal.part.index === 2;
        });
        const given = await queryDatabase<{ part: string }>(
          federation.portal(portal.id).databaseUrl,
          `SELECT part::text FROM cosignatures WHERE subject = $1 AND witness = $2`,
          [rogue.id, portal.id],
        );
        expect(given.map((r) => Number(r.part)).sort()).toEqual([0, 1]);
      }
    }, 120_000);
  });
});
