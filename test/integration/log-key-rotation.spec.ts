import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  CompactRange,
  EMPTY_ROOT,
  KEY_TYPE_ED25519,
  fromBase64,
  nextChain,
  signKeyTransition,
  signSeal,
  type NoteSigner,
  isKeyTransitionEntry,
  openSeal,
  parseKeyTransition,
  parseSignerKey,
  parseVerifierKey,
  formatSignerKey,
  toBase64,
} from '@cryptomesh/log';
import { readFileSync } from 'node:fs';
import { freshHome, meshJson } from '../../apps/cli/test/built-mesh';
import { queryDatabase } from '../support/db-snapshot';
import { startTestFederation, type Federation } from '../support/federation';
import { cosignersOf, fetchLog, waitFor, type KnownPortal } from '../support/federation-oracle';
import { TestAccount, post } from '../support/mesh-client';

/**
 * Issue #19 item 4: the log key of portal A of a RUNNING three-portal federation is rotated while
 * accounts are being created at A and B. The operator restarts A's log-signer with LOG_KEY_NEXT_FILE;
 * its next seal closes a part with the key transition (sealed by the old key) and every later seal
 * is the new key's. B and C mirror past the transition and cosign the new key's parts, a client
 * (the built `mesh` CLI) that pinned A's OLD key keeps verifying its profile — written in an
 * old-key part, then updated in a new-key part — at A and through B's mirror, and no portal
 * records a finding. Then the operator's last step: LOG_KEY = the new key, LOG_KEY_NEXT unset.
 */
interface Verified {
  verified: { via: string; profiles: Array<{ kind: string; log: string; id: string }> };
}

interface FindingJson {
  kind: string;
  code: string;
  subject: string;
  status: string;
}

describe('log key rotation in a running three-portal federation (#19 item 4)', () => {
  const home = freshHome('rotation');
  let federation: Federation;
  let A: KnownPortal;
  let B: KnownPortal;
  let C: KnownPortal;
  let portals: KnownPortal[];
  /** A's keys after the first test: the retired one and the current one. */
  let retiredA: NoteSigner | undefined;

  beforeAll(async () => {
    federation = await startTestFederation({
      env: { SEAL_INTERVAL_MS: 300, HEARTBEAT_MS: 2_000, LOG_LEVEL: 'warn', CATCHUP_INTERVAL_MS: 1_000 },
    });
    portals = federation.portals.map((p) => ({ ...p }));
    [A, B, C] = portals as [KnownPortal, KnownPortal, KnownPortal];
  }, 240_000);

  afterAll(async () => {
    await federation?.stop();
    rmSync(home, { recursive: true, force: true });
  }, 120_000);

  const checkpointOf = async (portal: KnownPortal, log = 'self'): Promise<string> => {
    const res = await fetch(`${portal.queryUrl}/logs/${log}/checkpoint`);
    if (res.status !== 200) throw new Error(`${portal.id} /logs/${log}/checkpoint: ${res.status}`);
    return res.text();
  };

  const keyFileOf = (portal: KnownPortal) =>
    join(dirname(federation.portal(portal.id).logs['log-signer']), 'log.key');

  /**
   * Writes, as a compromised log-signer would, the next part of `portal`'s log straight into its
   * database — `entries` and a seal signed by `signer` — with its log-signer stopped; the replication
   * service publishes it like any other part. Resolves to the part index.
   */
  const forgePart = async (
    portal: KnownPortal,
    signer: NoteSigner,
    entries: (size: number, part: number) => Uint8Array[],
  ) => {
    await federation.stopService(portal.id, 'log-signer');
    const url = federation.portal(portal.id).databaseUrl;
    const [last] = await queryDatabase<{ part: string; size: string; chain: Buffer; time_ms: string }>(
      url,
      'SELECT part, size, chain, time_ms FROM log_seals ORDER BY part DESC LIMIT 1',
    );
    const size = Number(last!.size);
    const part = Number(last!.part) + 1;
    const leaves = await queryDatabase<{ leaf_hash: Buffer }>(
      url,
      'SELECT leaf_hash FROM log_entries ORDER BY idx',
    );
    expect(leaves).toHaveLength(size); // nothing sequenced past the last seal
    const tree = CompactRange.empty();
    for (const l of leaves) tree.appendLeafHash(new Uint8Array(l.leaf_hash));
    const partRange = CompactRange.empty();
    const added = entries(size, part);
    for (const [i, entry] of added.entries()) {
      const nodes: Array<{ level: number; index: number; hash: Uint8Array }> = [];
      const leaf = tree.appendEntry(entry, (n) => {
        if (n.level > 0) nodes.push(n);
      });
      partRange.appendLeafHash(leaf);
      await queryDatabase(url, 'INSERT INTO log_entries (idx, entry, leaf_hash) VALUES ($1, $2, $3)', [
        size + i,
        Buffer.from(entry),
        Buffer.from(leaf),
      ]);
      for (const n of nodes)
        await queryDatabase(url, 'INSERT INTO log_tree_nodes (level, idx, hash) VALUES ($1, $2, $3)', [
          n.level,
          n.index,
          Buffer.from(n.hash),
        ]);
    }
    const digest = added.length === 0 ? EMPTY_ROOT : partRange.root();
    const value = {
      origin: portal.origin,
      size: tree.size,
      root: tree.root(),
      part: { index: part, first: size, digest },
      chain: nextChain(new Uint8Array(last!.chain), digest),
      timeMs: Math.max(Date.now(), Number(last!.time_ms)),
    };
    await queryDatabase(
      url,
      `INSERT INTO log_seals (part, first, size, part_digest, chain, root, time_ms, note)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        part,
        size,
        tree.size,
        Buffer.from(digest),
        Buffer.from(value.chain),
        Buffer.from(value.root),
        value.timeMs,
        signSeal(value, signer),
      ],
    );
    return part;
  };

  /** Waits until every other portal records a verified bad-part finding `code` against `subject` at `part`, and its mirror stays before it. */
  const expectBadPart = async (subject: KnownPortal, code: string, part: number) => {
    for (const holder of portals.filter((p) => p.id !== subject.id)) {
      await waitFor(
        `${holder.id} records bad-part/${code} against ${subject.id}`,
        async () =>
          (await findingsAt(holder)).some(
            (f) => f.subject === subject.id && f.kind === 'bad-part' && f.code === code,
          ),
        60_000,
      );
      const res = await fetch(`${holder.queryUrl}/logs/${subject.id}/parts/${part}`);
      expect(res.status).toBe(404); // the mirror stopped before the part
    }
  };

  const findingsAt = async (portal: KnownPortal): Promise<FindingJson[]> => {
    const res = await fetch(`${portal.queryUrl}/findings?limit=1000`);
    return ((await res.json()) as { findings: FindingJson[] }).findings;
  };

  it('rotates A’s key under write load: mirrors and cosignatures go on, the CLI keeps verifying, nothing is reported', async () => {
    // A profile written in an old-key part, verified against the key the client pins now.
    const created = await meshJson<{ fingerprint: string }>(home, [
      'profile',
      'create',
      '--portal',
      A.gatewayUrl,
      '--account',
      'dave@example.com',
    ]);
    await meshJson(home, ['password', 'add', 'bank.example', '--username', 'dave', '--password', 'old key']);
    const before = await meshJson<Verified>(home, ['profile', 'show', '--verify']);
    expect(before.verified.via).toBe(A.id);

    // Write load at A (the rotating portal) and B, all along the rotation.
    const statuses: number[] = [];
    let loading = true;
    const load = (async () => {
      for (let i = 0; loading; i++) {
        await Promise.all(
          [A, B].map(async (portal) => {
            const account = await TestAccount.create(
              `load${i}-${portal.id}@example.com`,
              undefined,
              portal.origin,
            );
            statuses.push(
              (await post(portal.gatewayUrl, 'CreateAccount', await account.createAccount())).status,
            );
          }),
        );
      }
    })();

    // The operator: a new key of the same origin, and A's log-signer restarted with LOG_KEY_NEXT_FILE.
    const oldKey = parseVerifierKey(A.verifierKey);
    const next = formatSignerKey(A.origin, KEY_TYPE_ED25519, randomBytes(32), nodeEd25519);
    retiredA = parseSignerKey(readFileSync(keyFileOf(A), 'utf8').trim(), nodeEd25519);
    const newKey = parseSignerKey(next, nodeEd25519).verifierKey;
    const nextFile = join(dirname(federation.portal(A.id).logs['log-signer']), 'log-next.key');
    writeFileSync(nextFile, `${next}\n`, { mode: 0o600 });
    await waitFor('some load before the rotation', () => Promise.resolve(statuses.length >= 4), 60_000);
    await federation.stopService(A.id, 'log-signer');
    await federation.startService(A.id, 'log-signer', { LOG_KEY_NEXT_FILE: nextFile });

    const rotated = await waitFor(
      'A seals with the new key',
      async () => {
        try {
          return openSeal(await checkpointOf(A), newKey, nodeEd25519, A.origin).seal;
        } catch {
          return false;
        }
      },
      60_000,
    );
    // More load after the transition: several new-key parts.
    const atRotation = statuses.length;
    await waitFor(
      'load after the rotation',
      () => Promise.resolve(statuses.length >= atRotation + 6),
      60_000,
    );
    loading = false;
    await load;
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    // The transition: one entry, the last of its part, naming the new key; A and B's mirror list it.
    const NEW_A: KnownPortal = { ...A, verifierKey: newKey.text };
    const own = (await fetchLog(A.queryUrl, 'self', NEW_A))!;
    const transitions = own.entries.flatMap((e, i) => (isKeyTransitionEntry(e) ? [{ i, e }] : []));
    expect(transitions).toHaveLength(1);
    const transition = parseKeyTransition(transitions[0]!.e);
    expect([transition.oldKey.text, transition.nextKey.text]).toEqual([oldKey.text, newKey.text]);
    expect(transition.size).toBe(transitions[0]!.i + 1);
    expect(transition.size).toBeLessThanOrEqual(rotated.size);
    expect(own.seal.size).toBeGreaterThan(transition.size);

    // Mirrors continue past the transition: B and C hold A's log, byte for byte, up to A's size.
    for (const holder of [B, C]) {
      await waitFor(
        `${holder.id} mirrors A past the transition, up to ${own.seal.size}`,
        async () => {
          const mirror = await fetchLog(holder.queryUrl, A.id, NEW_A).catch(() => undefined);
          if (mirror === undefined || mirror.seal.size < own.seal.size) return false;
          expect(mirror.entries.slice(0, own.seal.size).map(toBase64)).toEqual(own.entries.map(toBase64));
          return true;
        },
        60_000,
      );
      const listed = (await (await fetch(`${holder.queryUrl}/logs/${A.id}/key-transitions`)).json()) as {
        transitions: Array<{ index: number; entry: string }>;
      };
      expect(listed.transitions.map((t) => [t.index, toBase64(fromBase64(t.entry))])).toEqual([
        [transitions[0]!.i, toBase64(transitions[0]!.e)],
      ]);
    }

    // Cosignatures continue on new-key parts: A's checkpoint gets both peers' cosignatures.
    await waitFor(
      'A’s new-key checkpoint is cosigned by B and C',
      async () => {
        const checkpoint = await checkpointOf(A);
        const { seal } = openSeal(checkpoint, newKey, nodeEd25519, A.origin);
        return seal.size >= own.seal.size && cosignersOf(checkpoint, [B, C]).length === 2;
      },
      60_000,
    );

    // The client pinned the OLD key: it follows the transition and verifies the profile written in an
    // old-key part, then one updated in a new-key part, at A and through B's mirror.
    const after = await meshJson<Verified>(home, ['profile', 'show', '--verify']);
    expect(after.verified.via).toBe(A.id);
    expect(after.verified.profiles.map((p) => p.log)).toEqual([A.id, A.id]);
    await meshJson(home, ['password', 'add', 'shop.example', '--username', 'dave', '--password', 'new key']);
    const updated = await meshJson<Verified>(home, ['profile', 'show', '--verify']);
    expect(updated.verified.profiles.map((p) => p.log)).toEqual([A.id, A.id]);
    await waitFor(
      'B mirrors the new-key update, cosigned',
      async () => {
        const mirror = await fetchLog(B.queryUrl, A.id, NEW_A).catch(() => undefined);
        const latest = await fetchLog(A.queryUrl, 'self', NEW_A);
        return mirror !== undefined && mirror.seal.size >= latest!.seal.size - 1;
      },
      60_000,
    );
    // B's mirror of A's new-key checkpoint carries C's cosignature too (relayed on the witness topic,
    // checked with the key B's mirror followed to).
    await waitFor(
      'B serves A’s new-key checkpoint cosigned by B and C',
      async () => {
        const checkpoint = await checkpointOf(B, A.id);
        openSeal(checkpoint, newKey, nodeEd25519, A.origin);
        return cosignersOf(checkpoint, [B, C]).length === 2;
      },
      60_000,
    );
    const viaB = await meshJson<Verified & { fingerprint: string }>(home, ['profile', 'show', '--via', B.id]);
    expect(viaB.fingerprint).toBe(created.fingerprint);
    expect(viaB.verified.via).toBe(B.id);

    // No finding anywhere.
    for (const portal of portals) expect(await findingsAt(portal)).toEqual([]);

    // The operator's last step: LOG_KEY = the new key, LOG_KEY_NEXT unset; A goes on sealing.
    const newFile = join(dirname(federation.portal(A.id).logs['log-signer']), 'log-new.key');
    writeFileSync(newFile, `${next}\n`, { mode: 0o600 });
    await federation.stopService(A.id, 'log-signer');
    await federation.startService(A.id, 'log-signer', {
      LOG_KEY_FILE: newFile,
      LOG_KEY_NEXT_FILE: null,
      LOG_VERIFIER_KEY: newKey.text,
    });
    const last = openSeal(await checkpointOf(A), newKey, nodeEd25519, A.origin).seal;
    await waitFor(
      'A seals again with LOG_KEY = the new key',
      async () =>
        openSeal(await checkpointOf(A), newKey, nodeEd25519, A.origin).seal.part.index > last.part.index,
      30_000,
    );
    for (const portal of portals) expect(await findingsAt(portal)).toEqual([]);
  }, 420_000);

  it('a forged key transition (signed by a key that is not the current log key) is a finding at every peer, and their mirrors stop there', async () => {
    const current = parseSignerKey(readFileSync(keyFileOf(B), 'utf8').trim(), nodeEd25519);
    const rogue = parseSignerKey(
      formatSignerKey(B.origin, KEY_TYPE_ED25519, randomBytes(32), nodeEd25519),
      nodeEd25519,
    );
    const next = parseSignerKey(
      formatSignerKey(B.origin, KEY_TYPE_ED25519, randomBytes(32), nodeEd25519),
      nodeEd25519,
    );
    // The statement is signed by a rogue key in the current key's name; the part by the current key.
    const part = await forgePart(B, current, (size, index) => {
      const forged = signKeyTransition({
        origin: B.origin,
        oldKey: rogue,
        nextKey: next,
        part: index,
        size: size + 1,
      });
      const body = {
        ...(JSON.parse(new TextDecoder().decode(forged)) as { LogKeyTransition: Record<string, unknown> })
          .LogKeyTransition,
        Old: current.verifierKey.text,
      };
      return [
        new TextEncoder().encode(
          JSON.stringify({ LogKeyTransition: Object.fromEntries(Object.entries(body).sort()) }),
        ),
      ];
    });
    await expectBadPart(B, 'verify.transition', part);
  }, 180_000);

  it('a part sealed by the old key after the transition is a finding at every peer, and their mirrors stop there', async () => {
    expect(retiredA).toBeDefined();
    const part = await forgePart(A, retiredA!, () => []);
    await expectBadPart(A, 'verify.retired-key', part);
  }, 180_000);
});
