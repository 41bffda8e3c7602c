import type { Producer } from 'kafkajs';
import { accountUdf, nodeEd25519 } from '@cryptomesh/crypto';
import { decodeInboundMessage, verifyInboundMessage } from '@cryptomesh/intermesh';
import { KEY_TYPE_COSIGNATURE_V1, makeNoteSigner } from '@cryptomesh/log';
import type { QueuedInbound } from '@cryptomesh/persistence';
import { INBOUND_OUTBOX_KEEP_MS, InboundPublication, type InboundOutbox } from './inbound-publication';

const witness = makeNoteSigner(
  'alpha.example/witness',
  KEY_TYPE_COSIGNATURE_V1,
  new Uint8Array(32).fill(7),
  nodeEd25519,
);

/** An outbox holding `queued`, handing them all out once, and recording its purges. */
function outbox(queued: QueuedInbound[]): InboundOutbox & { drained: boolean; purges: number[] } {
  return {
    drained: false,
    purges: [],
    async publishPending(_topic, limit, publish) {
      const batch = queued.slice(0, limit);
      if (batch.length > 0) await publish(batch);
      this.drained = true;
      return batch.length;
    },
    purgePublished(keepMs) {
      this.purges.push(keepMs);
      return Promise.resolve(0);
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

const item = (n: number, pow: string | null = null): QueuedInbound => ({
  id: `${'A'.repeat(21)}${n}`,
  to: accountUdf(`bob${n}@beta.example`),
  toPortal: 'beta',
  envelope: JSON.stringify({ protected: 'e30', payload: `e${n}`, signature: 'c2ln' }),
  pow,
});

describe('InboundPublication (issue #20 relay)', () => {
  it("publishes each queued item signed by the origin's witness key, and skips one no member would decode", async () => {
    const good = item(1, 'abc123');
    const plain = item(2);
    const badPow = item(3, 'has space');
    const box = outbox([good, badPow, plain]);
    const { sent, producer: fake } = producer();
    let now = 1_000_000;
    const publication = new InboundPublication(box, 'alpha', witness, () => now);
    expect(await publication.publish(fake, 'intermesh.log.alpha')).toBe(3); // handed out: marked published
    expect(sent).toHaveLength(2);
    const check = { topicPortal: 'alpha', witnessKey: witness.verifierKey, maxEnvelopeBytes: 65_536 };
    const decoded = sent.map((record) => {
      expect(record.headers).toEqual({ type: 'inbound' });
      expect(record.key).toBe('alpha');
      const message = decodeInboundMessage({ key: record.key, value: new Uint8Array(record.value) });
      expect(() => verifyInboundMessage(message, check, nodeEd25519)).not.toThrow();
      return message;
    });
    expect(decoded.map((m) => [m.to, m.pow, new TextDecoder().decode(m.envelope)])).toEqual([
      [good.to, 'abc123', good.envelope],
      [plain.to, null, plain.envelope],
    ]);
    // The published rows are purged at most once a minute, keeping a day.
    expect(box.purges).toEqual([INBOUND_OUTBOX_KEEP_MS]);
    await publication.publish(fake, 'intermesh.log.alpha');
    expect(box.purges).toHaveLength(1);
    now += 60_000;
    await publication.publish(fake, 'intermesh.log.alpha');
    expect(box.purges).toHaveLength(2);
  });

  it('leaves the outbox alone without a witness key (no federation)', async () => {
    const box = outbox([item(4)]);
    const { sent, producer: fake } = producer();
    expect(await new InboundPublication(box, 'alpha', undefined).publish(fake, 'intermesh.log.alpha')).toBe(
      0,
    );
    expect(box.drained).toBe(false);
    expect(box.purges).toEqual([]);
    expect(sent).toEqual([]);
  });
});
