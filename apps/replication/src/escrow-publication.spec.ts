import type { Producer } from 'kafkajs';
import { encryptJwe, keyUdf, nodeEd25519, publicKeyOf } from '@cryptomesh/crypto';
import { decodeEscrowMessage, verifyEscrowMessage } from '@cryptomesh/intermesh';
import { KEY_TYPE_COSIGNATURE_V1, makeNoteSigner } from '@cryptomesh/log';
import type { QueuedEscrow } from '@cryptomesh/persistence';
import { EscrowPublication, type EscrowOutbox } from './escrow-publication';

const witness = makeNoteSigner(
  'alpha.example/witness',
  KEY_TYPE_COSIGNATURE_V1,
  new Uint8Array(32).fill(7),
  nodeEd25519,
);

/** An outbox holding `queued`, handing them all out once, and recording what was left. */
function outbox(queued: QueuedEscrow[]): EscrowOutbox & { drained: boolean } {
  return {
    drained: false,
    async publishPending(_topic, limit, publish) {
      const batch = queued.slice(0, limit);
      if (batch.length > 0) await publish(batch);
      this.drained = true;
      return batch.length;
    },
  };
}

function producer() {
  const sent: Array<{ key: string; value: Buffer; headers: Record<string, string> }> = [];
  const fake = {
    send: ({ messages }: { messages: typeof sent }) => {
      sent.push(...messages);
      return Promise.resolve([]);
    },
  };
  return { sent, producer: fake as unknown as Producer };
}

async function escrowBlob(n: number): Promise<QueuedEscrow> {
  const secret = new Uint8Array(32).fill(n);
  const pair = { algorithm: 'X25519' as const, privateKey: secret, publicKey: publicKeyOf('X25519', secret) };
  const jwe = await encryptJwe(new Uint8Array(16), [pair], { contentType: 'application/json' });
  return { key: keyUdf('X25519', pair.publicKey), blob: new TextEncoder().encode(JSON.stringify(jwe)) };
}

describe('EscrowPublication (issue #19 item 2)', () => {
  it("publishes each queued blob signed by the origin's witness key, and skips one that is no JWE to its key", async () => {
    const good = await escrowBlob(1);
    const junk: QueuedEscrow = {
      key: (await escrowBlob(2)).key,
      blob: new TextEncoder().encode('not a JWE'),
    };
    const misfiled: QueuedEscrow = { key: (await escrowBlob(3)).key, blob: good.blob };
    const box = outbox([junk, good, misfiled]);
    const { sent, producer: fake } = producer();
    const published = await new EscrowPublication(box, 'alpha', witness).publish(fake, 'intermesh.log.alpha');
    expect(published).toBe(3); // handed out, so their outbox rows go; only one was worth sending
    expect(sent).toHaveLength(1);
    const record = sent[0]!;
    expect(record.headers).toEqual({ type: 'escrow' });
    const message = decodeEscrowMessage({ key: record.key, value: new Uint8Array(record.value) });
    expect(message.key).toBe(good.key);
    const check = { topicPortal: 'alpha', witnessKey: witness.verifierKey, maxBlobBytes: 32 * 1024 };
    expect(verifyEscrowMessage(message, check, nodeEd25519)).toHaveLength(32);
  });

  it('leaves the outbox alone without a witness key (no federation)', async () => {
    const box = outbox([await escrowBlob(4)]);
    const { sent, producer: fake } = producer();
    expect(await new EscrowPublication(box, 'alpha', undefined).publish(fake, 'intermesh.log.alpha')).toBe(0);
    expect(box.drained).toBe(false);
    expect(sent).toEqual([]);
  });
});
