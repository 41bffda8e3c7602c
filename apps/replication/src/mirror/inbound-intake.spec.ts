import { accountUdf, encryptJwe, generateKeyPair, nodeEd25519 } from '@cryptomesh/crypto';
import { encodeInboundMessage, signInbound, type FederationPeer } from '@cryptomesh/intermesh';
import { KEY_TYPE_COSIGNATURE_V1, makeNoteSigner } from '@cryptomesh/log';
import {
  NonceWindow,
  buildMasterProfile,
  buildPersonalProfile,
  encodeAuditedAccount,
  envelopeText,
  envelopeWorkBody,
  readEnvelope,
  signEnvelope,
  solveProofOfWork,
  type InboundKind,
  type JsonObject,
} from '@cryptomesh/mesh';
import type { InboundItem, InboundLimits } from '@cryptomesh/persistence';
import { MetricsService } from '@cryptomesh/service';
import { InboundIntake, type InboundDelivery, type InboundIntakeOptions } from './inbound-intake';

/**
 * The intake's own checks with the real codecs and crypto, against a fake mirror and spool (the
 * database side is test/integration/inbound-relay.spec.ts): what each refusal is, in which order,
 * and what a delivered item carries.
 */
const NOW = 1_800_000_000_000;
const witness = makeNoteSigner(
  'alpha.example/witness',
  KEY_TYPE_COSIGNATURE_V1,
  new Uint8Array(32).fill(3),
  nodeEd25519,
);
const peer = { id: 'alpha', witnessKey: witness.verifierKey } as FederationPeer;
const bob = 'bob@beta.example';
const options: InboundIntakeOptions = {
  contactPowLevel: 0,
  maxEnvelopeBytes: 65_536,
  limits: {
    contactRequestsPerHour: 20,
    contactRequestsPerOriginPerHour: 200,
    spoolMaxPerAccount: 1000,
    strangerMaxPerAccount: 50,
    maxAgeMs: 7 * 86_400_000,
    clockSkewMs: 300_000,
  },
};
/** Bob's Master Profile, as the sender verified it (set in beforeAll). */
let bobMaster = '';

async function sender(address: string, status: 'active' | 'deleted' = 'active') {
  const masterKey = generateKeyPair('Ed25519');
  const device = { signature: generateKeyPair('Ed25519'), encryption: generateKeyPair('X25519') };
  const master = await buildMasterProfile({ administrators: [device.signature], created: NOW }, masterKey);
  const personal = await buildPersonalProfile(
    { master: master.profile.id, sequence: 0, devices: [device] },
    device.signature,
  );
  const state = encodeAuditedAccount({
    state: { account: accountUdf(address), status, master, personal, objects: new Map() },
    nonces: NonceWindow.of(new Map()),
  });
  return { address, device, master, state };
}
type Sender = Awaited<ReturnType<typeof sender>>;

function intake(states: Map<string, unknown>, settings: Partial<InboundIntakeOptions> = {}) {
  const admitted: InboundItem[] = [];
  const limits: InboundLimits[] = [];
  const delivery: InboundDelivery = {
    isActiveRecipient: (account) => Promise.resolve(account === accountUdf(bob)),
    admit: (item, given) => {
      admitted.push(item);
      limits.push(given);
      return Promise.resolve({ ok: true, duplicate: false, stranger: false });
    },
  };
  const metrics = new MetricsService({ name: 'replication', version: 'test' });
  const mirror = {
    accountState: (p: string, account: string) => {
      const state = p === 'alpha' ? states.get(account) : undefined;
      return Promise.resolve(state === undefined ? undefined : { state, through: 0, nonces: [] });
    },
  };
  const service = new InboundIntake(
    { ...options, ...settings },
    delivery,
    mirror,
    { now: () => NOW },
    metrics,
  );
  const outcomes = async () =>
    (await metrics.registry.getSingleMetric('intermesh_inbound_messages_total')!.get()).values.map(
      (v) => v.labels.outcome,
    );
  return { service, admitted, limits, outcomes };
}

async function envelope(
  from: Sender,
  kind: InboundKind = 'message',
  change: { created?: number; to?: string } = {},
) {
  const body = await encryptJwe(new Uint8Array(4), [generateKeyPair('X25519')]);
  return signEnvelope(
    {
      kind,
      from: from.address,
      fromMaster: from.master.profile.id,
      to: change.to ?? bob,
      toMaster: bobMaster,
      created: change.created ?? NOW - 1000,
      body: body as unknown as JsonObject,
    },
    from.device.signature,
  );
}

const record = (text: string, pow: string | null = null, to = accountUdf(bob)) =>
  encodeInboundMessage(signInbound('alpha', to, new TextEncoder().encode(text), pow, witness));

describe('InboundIntake (issue #20 relay)', () => {
  let alice: Sender;
  let states: Map<string, unknown>;

  beforeAll(async () => {
    alice = await sender('alice@alpha.example');
    bobMaster = (await sender(bob)).master.profile.id;
    states = new Map([[accountUdf(alice.address), alice.state]]);
  });

  it('delivers a verified envelope with what the spool keys and shows', async () => {
    const { service, admitted, outcomes } = intake(states);
    const jws = await envelope(alice);
    await service.receive(peer, record(envelopeText(jws)));
    expect(admitted).toEqual([
      {
        account: accountUdf(bob),
        toMaster: bobMaster,
        id: readEnvelope(jws).envelope.id,
        kind: 'message',
        fromAccount: accountUdf(alice.address),
        fromMaster: alice.master.profile.id,
        fromDevice: readEnvelope(jws).kid,
        origin: 'alpha',
        envelope: envelopeText(jws),
        created: NOW - 1000,
        proofOfWorkOk: true,
      },
    ]);
    expect(await outcomes()).toEqual(['delivered']);
  });

  it('counts a message for no account here and admits nothing', async () => {
    const { service, admitted, outcomes } = intake(states);
    const jws = await envelope(alice, 'message', { to: 'carol@gamma.example' });
    await service.receive(peer, record(envelopeText(jws), null, accountUdf('carol@gamma.example')));
    expect(admitted).toEqual([]);
    expect(await outcomes()).toEqual(['elsewhere']);
  });

  it('refuses an envelope above INBOUND_MAX_ENVELOPE_BYTES, admitting nothing', async () => {
    const { service, admitted, outcomes } = intake(states, { maxEnvelopeBytes: 1024 });
    await service.receive(peer, record(envelopeText(await envelope(alice))));
    expect(admitted).toEqual([]);
    expect(await outcomes()).toEqual(['inbound.too-large']);
  });

  it("hands admitInbound the envelope's Created and its clock: the window is admission's to judge", async () => {
    const { service, admitted, limits } = intake(states);
    await service.receive(peer, record(envelopeText(await envelope(alice, 'message', { created: NOW - 5 }))));
    expect(admitted.map((i) => i.created)).toEqual([NOW - 5]);
    expect(limits).toMatchObject([{ ...options.limits }]);
    expect(limits[0]!.now!()).toBe(NOW);
  });

  it('refuses an envelope for another recipient than the message, and text that is no envelope', async () => {
    const { service, admitted, outcomes } = intake(states);
    const forCarol = await envelope(alice, 'message', { to: 'carol@beta.example' });
    await service.receive(peer, record(envelopeText(forCarol)));
    await service.receive(peer, record('{"protected":"e30"}'));
    expect(admitted).toEqual([]);
    expect(await outcomes()).toEqual(['inbound.wrong-recipient', 'inbound.invalid']);
  });

  it('refuses a sender deleted in the origin’s log, or with another Master Profile than it has there', async () => {
    const gone = await sender('gone@alpha.example', 'deleted');
    const twin = await sender('alice@alpha.example');
    const { service, admitted, outcomes } = intake(
      new Map([...states, [accountUdf(gone.address), gone.state]]),
    );
    await service.receive(peer, record(envelopeText(await envelope(gone))));
    await service.receive(peer, record(envelopeText(await envelope(twin))));
    expect(admitted).toEqual([]);
    expect(await outcomes()).toEqual(['inbound.sender-inactive', 'inbound.wrong-sender']);
  });

  it('passes whether the nonce shows the portal’s level, for access control to decide', async () => {
    const { service, admitted } = intake(states, { contactPowLevel: 1 });
    const jws = await envelope(alice, 'contact');
    const pow = solveProofOfWork(envelopeWorkBody(readEnvelope(jws).envelope), 1);
    await service.receive(peer, record(envelopeText(jws), pow));
    await service.receive(peer, record(envelopeText(jws), null));
    await service.receive(peer, record(envelopeText(jws), `${pow}0`));
    expect(admitted.map((i) => i.proofOfWorkOk)).toEqual([true, false, false]);
  }, 180_000); // one level-1 solve: ~5 s alone, much longer beside a parallel suite on 2 cores
});
