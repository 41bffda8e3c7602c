import { Body, Controller, HttpCode, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestLines, type LineLogger } from '@cryptomesh/service';
import { nodeEd25519 } from '@cryptomesh/crypto';
import type { Clock, MirrorStore } from '@cryptomesh/audit';
import {
  checkAddCheckpoint,
  cosign,
  findEquivocation,
  formatNote,
  openNote,
  openSeal,
  formatSignatureLine,
  isLogError,
  parseAddCheckpoint,
  parseVerifierKey,
  type LogErrorCode,
  type VerifierKey,
  type WitnessedCheckpoint,
} from '@cryptomesh/log';
import type { TypeOrmWitnessCheckpointStore } from '@cryptomesh/persistence';
import { FederationMetrics } from './federation.metrics';
import { FEDERATION_CLOCK, MIRROR_STORE, WITNESS_CHECKPOINT_STORE } from './federation-tokens';
import { FEDERATION_CONTEXT, WitnessService, type FederationContext } from './witness.service';

/**
 * `note` reduced to its text and the signature line of `key` (already verified by the check):
 * the canonical form of a signed checkpoint, whatever other lines a sender added.
 */
function logSigned(note: string, key: VerifierKey): string {
  const opened = openNote(note, key, nodeEd25519);
  const own = opened.signatures.filter((s) => s.name === key.name && s.keyId === key.keyId).slice(0, 1);
  return formatNote({ text: opened.text, signatures: own });
}

/** The HTTP status of each refusal (C2SP tlog-witness "add-checkpoint"). */
const STATUS: Partial<Record<LogErrorCode, number>> = {
  'witness.malformed': 400,
  'witness.unknown-key': 403,
  'witness.unknown-log': 404,
  'witness.stale': 409,
  'witness.conflict': 409,
  'witness.bad-proof': 422,
};

/** The port of the witness's state (adapter: `TypeOrmWitnessCheckpointStore`). */
export type WitnessCheckpointStore = Pick<TypeOrmWitnessCheckpointStore, 'latest' | 'advance'>;

/**
 * `POST /add-checkpoint` (C2SP tlog-witness): this portal witnesses every log it mirrors — the
 * peers of its federation, by origin, with their log keys — for callers outside the federation
 * (peers keep cosigning over Kafka). The checks are `checkAddCheckpoint` of `@cryptomesh/log`; the
 * new latest size is recorded by compare-and-swap BEFORE the cosignature is made, so a crash after
 * the record leaves a witness that refuses the same old size (409 with the new size, and the client
 * resubmits), never one that cosigned something it did not record.
 */
@Controller()
export class AddCheckpointController {
  private readonly logger = new Logger('witness');
  private readonly logKeys: ReadonlyMap<string, VerifierKey>;

  constructor(
    @Inject(FEDERATION_CONTEXT) private readonly context: FederationContext,
    @Inject(WITNESS_CHECKPOINT_STORE) private readonly store: WitnessCheckpointStore,
    @Inject(FEDERATION_CLOCK) private readonly clock: Clock,
    private readonly metrics: FederationMetrics,
    private readonly witness: WitnessService,
    @Inject(MIRROR_STORE) private readonly mirror: Pick<MirrorStore, 'head'>,
  ) {
    this.logKeys = new Map(context.peers.map((p) => [p.origin, p.verifierKey]));
  }

  @Post('add-checkpoint')
  @HttpCode(200)
  async addCheckpoint(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    // The service binds no request context (replication.module.ts): its lines carry the id this way.
    const log = requestLines(request.raw, 'witness', this.logger);
    // The state checked is the state swapped from: never re-read in between (a request that
    // re-read could swap a newer size back to its own, the spec's roll-back race). A conflict's
    // evidence is taken from it too.
    let checked: (WitnessedCheckpoint & { readonly checkpoint: string }) | undefined;
    try {
      const text =
        typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : undefined;
      const request = parseAddCheckpoint(text ?? '');
      const followed = await this.followedKey(request.checkpoint);
      const accepted = await checkAddCheckpoint(
        request,
        (origin) => (followed?.origin === origin ? followed.key : this.logKeys.get(origin)),
        async (origin) => (checked = await this.store.latest(origin)),
        nodeEd25519,
      );
      const { origin, size, root } = accepted.checkpoint;
      const recorded = await this.store.advance(origin, checked, {
        size,
        root,
        checkpoint: request.checkpoint,
      });
      if (!recorded) {
        // Another request moved the witness between the check and the swap: its size wins.
        const now = await this.store.latest(origin);
        return this.refuse(log, reply, 409, 'witness.stale', `${now?.size ?? 0}\n`, true);
      }
      const key = this.context.witnessKey;
      if (key === undefined) throw new Error('the witness key is required to witness');
      const line = formatSignatureLine(cosign(accepted.noteText, key, Math.floor(this.clock.now() / 1000)));
      this.metrics.witnessRequest('cosigned');
      void reply.header('content-type', 'text/plain; charset=utf-8');
      return `${line}\n`;
    } catch (error) {
      if (!isLogError(error) || STATUS[error.code] === undefined) {
        // A 5xx: its diagnostic line with the request's id (Nest's own handler writes one without).
        log.error({ msg: 'add-checkpoint failed', error: (error as Error).message });
        throw error;
      }
      const status = STATUS[error.code]!;
      if (error.code === 'witness.conflict') await this.recordConflict(log, body, checked);
      if (error.code === 'witness.stale')
        return this.refuse(log, reply, status, error.code, `${error.expected ?? 0}\n`, true);
      return this.refuse(log, reply, status, error.code, `${error.message}\n`, false);
    }
  }

  /**
   * The log key of the peer whose checkpoint this is, as this portal's mirror followed it through
   * its key transitions (docs/design/log-format.md "Key transitions"); undefined while the configured
   * key is the current one (or the origin is no peer's, or the text no checkpoint: the check says so).
   */
  private async followedKey(checkpoint: string): Promise<{ origin: string; key: VerifierKey } | undefined> {
    const origin = checkpoint.split('\n', 1)[0]!;
    const peer = this.context.peers.find((p) => p.origin === origin);
    if (peer === undefined) return undefined;
    const current = (await this.mirror.head(peer.id))?.logKeys?.current;
    return current === undefined ? undefined : { origin, key: parseVerifierKey(current) };
  }

  /**
   * A checkpoint the log's key signed with another root for the size this witness cosigned
   * (`cosigned`: the row the check compared against, not a re-read): when both are seals, that is
   * a proven equivocation (`findEquivocation`), recorded and published as a finding against the
   * peer like one seen on the topic — the caller holds a fork, whoever it is. The evidence keeps of
   * each note only its text and the log key's signature: other signature lines are free for anyone
   * to add, and would make every padded copy a new finding (or evidence too large to publish). A
   * conflict that makes no proof (a plain checkpoint with no seal lines), or a finding that cannot
   * be recorded, is logged at warn: the 409 is the caller's answer either way.
   */
  private async recordConflict(
    log: LineLogger,
    body: unknown,
    cosigned: { readonly checkpoint: string } | undefined,
  ): Promise<void> {
    try {
      const text = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : '';
      const { checkpoint } = parseAddCheckpoint(text);
      const origin = checkpoint.split('\n', 1)[0]!;
      const peer = this.context.peers.find((p) => p.origin === origin);
      if (peer === undefined || cosigned === undefined) return;
      const key = peer.verifierKey;
      const notes = [logSigned(cosigned.checkpoint, key), logSigned(checkpoint, key)] as const;
      let evidence;
      try {
        evidence = findEquivocation({ logKey: key, origin, ed25519: nodeEd25519, notes });
      } catch (error) {
        if (!isLogError(error)) throw error;
      }
      if (evidence === undefined) {
        log.warn({
          msg: 'add-checkpoint: another root for a size cosigned, not a seal',
          peer: peer.id,
        });
        return;
      }
      const { seal } = openSeal(notes[0], key, nodeEd25519, origin);
      await this.witness.recordFinding(
        peer.id,
        {
          kind: 'equivocation',
          code: 'seal.conflict',
          part: seal.part.index,
          detail: `${peer.id} signed two checkpoints of size ${seal.size} with different roots: one cosigned here, one submitted to /add-checkpoint`,
          evidence: { ...evidence },
        },
        log,
      );
    } catch (error) {
      log.warn({
        msg: 'add-checkpoint: a conflict could not be recorded as a finding',
        error: (error as Error).message,
      });
    }
  }

  private refuse(
    log: LineLogger,
    reply: FastifyReply,
    status: number,
    code: string,
    body: string,
    size: boolean,
  ): string {
    this.metrics.witnessRequest(code);
    if (status !== 409 || !size) log.warn({ msg: 'add-checkpoint refused', code, status });
    void reply.status(status).header('content-type', size ? 'text/x.tlog.size' : 'text/plain; charset=utf-8');
    return body;
  }
}
