import { Kafka, logLevel, type Producer } from 'kafkajs';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  WITNESS_TOPIC,
  encodeWitnessMessage,
  ensureTopics,
  findingFingerprint,
  kafkaClientConfig,
  logProducerConfig,
  logTopic,
  signFinding,
  type InboundRecord,
  type JsonValue,
  type LogRecord,
} from '@cryptomesh/intermesh';
import { signSeal, type Seal } from '@cryptomesh/log';
import { witnessSigner, logSigner } from '../../libs/log/testdata/log-fixture';
import { PeerLog } from '../../libs/audit/test/peer-log';

export interface RoguePart {
  readonly entries: Uint8Array[];
  readonly seal: string;
  readonly value: Seal;
}

/**
 * A test harness that holds a portal's log key and writes that portal's log topic directly: it can
 * publish honest parts, and then anything a misbehaving portal (or anyone with write access to the
 * topic) could — tampered entries, broken chains, parts out of order, seals by another key, and a
 * second seal for a part it already sealed (equivocation).
 */
export class RoguePortal {
  readonly log: PeerLog;
  readonly origin: string;
  private readonly producer: Producer;
  private readonly kafka: Kafka;

  constructor(
    readonly id: string,
    brokers: string[],
  ) {
    this.origin = `rogue.test/${id}`;
    this.log = new PeerLog(id, this.origin, nodeEd25519);
    this.log.fixture.timeMs = Date.now();
    this.kafka = new Kafka({
      ...kafkaClientConfig({ brokers, clientId: `rogue-${id}` }),
      logLevel: logLevel.NOTHING,
    });
    this.producer = this.kafka.producer(logProducerConfig);
  }

  /** Its peer entry for the honest portals' FEDERATION_PEERS (its query service does not exist). */
  get peer() {
    return {
      id: this.id,
      origin: this.origin,
      verifierKey: this.log.verifierKey.text,
      witnessKey: witnessSigner(`${this.origin}/witness`, nodeEd25519).verifierKey.text,
      queryUrl: 'http://127.0.0.1:9/',
    };
  }

  async connect(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [{ topic: logTopic(this.id), numPartitions: 1 }]);
    } finally {
      await admin.disconnect();
    }
    await this.producer.connect();
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }

  /** The next honest part of `count` fresh accounts (not yet published). */
  async nextPart(count: number): Promise<RoguePart> {
    const part = this.log.seal(await this.log.entries(count));
    this.log.fixture.timeMs = Math.max(this.log.fixture.timeMs, Date.now());
    return part;
  }

  /** `entries` sealed as the next part (validly: whatever they contain). */
  sealNext(entries: Uint8Array[]): RoguePart {
    const part = this.log.seal(entries);
    this.log.fixture.timeMs = Math.max(this.log.fixture.timeMs, Date.now());
    return part;
  }

  /**
   * Publishes on `intermesh.witness` a finding against `subject` signed with this portal's witness key
   * (as any federation member can): a claim whose evidence proves nothing.
   */
  async reportFinding(
    subject: string,
    kind: 'rule' | 'bad-part',
    code: string,
    evidence: JsonValue,
  ): Promise<string> {
    const id = findingFingerprint({ subject, kind, code, part: 0, evidence });
    const signed = signFinding(
      {
        subject,
        reporter: this.id,
        id,
        kind,
        part: 0,
        code,
        detail: `${subject} broke ${code}`,
        evidence,
        observedAt: Date.now(),
      },
      witnessSigner(`${this.origin}/witness`, nodeEd25519),
    );
    const record = encodeWitnessMessage(signed);
    await this.producer.send({
      topic: WITNESS_TOPIC,
      acks: -1,
      messages: [{ key: record.key, value: Buffer.from(record.value), headers: { type: record.type } }],
    });
    return id;
  }

  /** The same part with another seal body, validly signed by this portal's key. */
  resealed(part: RoguePart, change: Partial<Seal>): RoguePart {
    const value = { ...part.value, ...change };
    return { entries: part.entries, value, seal: signSeal(value, this.log.fixture.signer) };
  }

  /** The same part sealed by a key that is not this portal's (same name). */
  signedByAnotherKey(part: RoguePart): RoguePart {
    return { ...part, seal: signSeal(part.value, logSigner(this.origin, nodeEd25519, 'an impostor')) };
  }

  async publish(part: RoguePart): Promise<void> {
    await this.send(this.log.records(part));
  }

  /** Records on its log topic as they are: a part's, or an inbound message (issue #20). */
  async send(records: readonly (LogRecord | InboundRecord)[]): Promise<void> {
    await this.producer.send({
      topic: logTopic(this.id),
      acks: -1,
      messages: records.map((r) => ({
        partition: 0,
        key: r.key,
        value: Buffer.from(r.value),
        headers: { type: r.type },
      })),
    });
  }
}
