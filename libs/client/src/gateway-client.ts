import { ClientError, isClientError } from './client-error';
import {
  joinUrl,
  portalRequest,
  refusalCode,
  portalUrlName,
  type FetchLike,
  type PortalAnswer,
} from './portal-http';

/** The fields of one answer of the Mesh protocol (docs/PROTOCOL.md), untrusted until checked. */
export type GatewayFields = Record<string, unknown>;

/** What a portal says about itself in `Hello` (docs/PROTOCOL.md "Hello"), read but not trusted. */
export interface PortalHello {
  readonly version: string;
  readonly portalId: string;
  /** The checkpoint origin of the portal's log. */
  readonly origin: string;
  /** The C2SP verifier key of the log key (signed-note type 0x01). */
  readonly verifierKey: string;
  /** The C2SP verifier key with which the portal cosigns peers' checkpoints, when it has one. */
  readonly witnessKey?: string;
  /** How many peer cosignatures a client should demand on this portal's checkpoints. */
  readonly cosignatureQuorum?: number;
  /** Where the query service answers; absent when it answers at the gateway's URL. */
  readonly queryUrl?: string;
  readonly maxRequestBytes: number;
  readonly maxProfileBytes: number;
  /** The proof-of-work level CreateAccount must show (0: none). */
  readonly proofOfWorkLevel: number;
}

/** The path of the Mesh protocol under a gateway URL. */
export const MESH_PROTOCOL_PATH = '/.well-known/mmm/';

/**
 * The gateway of one portal, over HTTP (docs/PROTOCOL.md): one `POST /.well-known/mmm/` per
 * transaction. It builds no signed request itself — callers pass complete bodies — and trusts
 * nothing it reads: answers are returned as fields for the caller to check.
 *
 * Errors (ClientError); a short wait the portal asks for (`rate.limited`, `log.pushback` with a
 * Retry-After of at most 5 s) is waited out, three times at most, sending the same bytes again:
 * - `portal.unreachable`: the request failed on the network or timed out;
 * - `portal.refused`: an HTTP status other than 200, or a Mesh `Status` other than 200; `evidence`
 *   holds `{ url, transaction, status, code?, message?, reason? }` — `code` is the portal's stable
 *   `Error` (`account.exists`, `not-found`…), `message` its `StatusDescription`, `reason` its `Reason`;
 * - `verify.answer`: a 200 that is not the transaction's `<Name>Response` object.
 */
export class GatewayClient {
  /** The portal's id once `hello()` answered, else the gateway's origin: how errors name it. */
  private portalName: string;
  /** Hello's `Origin` once `hello()` answered: what requests to this portal are bound to. */
  private helloOrigin: string | undefined;

  constructor(
    readonly gatewayUrl: string,
    private readonly fetchImpl?: FetchLike,
    private readonly options: { readonly timeoutMs?: number } = {},
  ) {
    this.portalName = portalUrlName(gatewayUrl);
  }

  /** The name errors give this portal: its `PortalId` after `hello()`, else the URL's origin. */
  get portal(): string {
    return this.portalName;
  }

  /** `Hello` (unauthenticated): who the portal is and the policy it enforces. */
  async hello(): Promise<PortalHello> {
    const f = await this.send('Hello', {});
    const policy = isObject(f.Policy) ? f.Policy : {};
    const pow = isObject(policy.ProofOfWork) ? policy.ProofOfWork : {};
    const hello: PortalHello = {
      version: this.text(f, 'Version', 'Hello'),
      portalId: this.text(f, 'PortalId', 'Hello'),
      origin: this.text(f, 'Origin', 'Hello'),
      verifierKey: this.text(f, 'VerifierKey', 'Hello'),
      ...(typeof f.WitnessKey === 'string' ? { witnessKey: f.WitnessKey } : {}),
      ...(typeof f.CosignatureQuorum === 'number' ? { cosignatureQuorum: f.CosignatureQuorum } : {}),
      ...(typeof f.QueryUrl === 'string' && f.QueryUrl !== '' ? { queryUrl: f.QueryUrl } : {}),
      maxRequestBytes: this.count(policy, 'MaxRequestBytes', 'Hello Policy'),
      maxProfileBytes: this.count(policy, 'MaxProfileBytes', 'Hello Policy'),
      proofOfWorkLevel: this.count(pow, 'Level', 'Hello Policy.ProofOfWork'),
    };
    this.portalName = hello.portalId;
    this.helloOrigin = hello.origin;
    return hello;
  }

  /**
   * The portal's origin (Hello's `Origin`): every signed request names it (docs/PROTOCOL.md
   * "Authentication"). Asks `hello()` once, then answers from memory.
   */
  async origin(): Promise<string> {
    return this.helloOrigin ?? (await this.hello()).origin;
  }

  /**
   * Sends `{"<name>Request": body}` and resolves with the fields of `<name>Response` when the portal
   * answered 200 with `Status` 200. The fields are as the portal sent them: the caller checks them.
   */
  async send(name: string, body: GatewayFields): Promise<GatewayFields> {
    const url = joinUrl(this.gatewayUrl, MESH_PROTOCOL_PATH);
    const request = (): Promise<PortalAnswer> =>
      portalRequest(
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ [`${name}Request`]: body }),
        },
        {
          portal: this.portalName,
          ...(this.fetchImpl === undefined ? {} : { fetchImpl: this.fetchImpl }),
          ...(this.options.timeoutMs === undefined ? {} : { timeoutMs: this.options.timeoutMs }),
        },
      );
    let answer = await request();
    // A short wait the portal asks for (its per-account rate limit, its log's push-back) is waited
    // out, a few times at most: the portal refused the request before recording anything of it
    // (docs/PROTOCOL.md "Errors"), so the same bytes are sent again, not a replay.
    for (let retry = 0; retry < RETRIES_WHEN_ASKED && waitAsked(answer) !== undefined; retry++) {
      await sleep(waitAsked(answer)! * 1000);
      answer = await request();
    }
    const parsed = readAnswer(answer.text);
    const fields = parsed?.fields;
    if (answer.status !== 200 || fields === undefined || fields.Status !== 200) {
      if (answer.status === 200 && fields !== undefined && fields.Status === undefined)
        throw this.malformed(url, name, `${parsed?.member ?? 'the answer'} has no Status`, answer);
      if (answer.status === 200 && fields === undefined)
        throw this.malformed(url, name, 'the answer is not one JSON object with one member', answer);
      throw this.refused(url, name, answer, fields);
    }
    if (parsed?.member !== `${name}Response`)
      throw this.malformed(url, name, `answered ${parsed?.member ?? 'nothing'}, not ${name}Response`, answer);
    return fields;
  }

  private refused(
    url: string,
    transaction: string,
    answer: PortalAnswer,
    fields: GatewayFields | undefined,
  ): ClientError {
    const code = typeof fields?.Error === 'string' ? fields.Error : undefined;
    const message = typeof fields?.StatusDescription === 'string' ? fields.StatusDescription : undefined;
    const reason = typeof fields?.Reason === 'string' ? fields.Reason : undefined;
    const status = typeof fields?.Status === 'number' ? fields.Status : answer.status;
    const said = [
      code,
      reason === undefined ? undefined : `(${reason})`,
      message === undefined ? '' : `— ${message}`,
    ]
      .filter((part) => part !== undefined && part !== '')
      .join(' ');
    return new ClientError(
      'portal.refused',
      `${this.portalName} refused ${transaction}: ${status}${said === '' ? '' : ` ${said}`}`,
      {
        portal: this.portalName,
        check: `${transaction} answer`,
        evidence: {
          url,
          transaction,
          status,
          ...(code === undefined ? {} : { code }),
          ...(message === undefined ? {} : { message }),
          ...(reason === undefined ? {} : { reason }),
        },
      },
    );
  }

  private malformed(url: string, transaction: string, what: string, answer: PortalAnswer): ClientError {
    return new ClientError('verify.answer', `${this.portalName}: ${transaction}: ${what}`, {
      portal: this.portalName,
      check: `${transaction} answer`,
      evidence: { url, transaction, status: answer.status, body: answer.text.slice(0, 2000) },
    });
  }

  private text(fields: GatewayFields, name: string, where: string): string {
    const value = fields[name];
    if (typeof value !== 'string' || value === '')
      throw new ClientError('verify.answer', `${this.portalName}: ${where} has no "${name}" string`, {
        portal: this.portalName,
        check: `${where} answer`,
      });
    return value;
  }

  private count(fields: GatewayFields, name: string, where: string): number {
    const value = fields[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
      throw new ClientError('verify.answer', `${this.portalName}: ${where} has no "${name}" count`, {
        portal: this.portalName,
        check: `${where} answer`,
      });
    return value;
  }
}

/** The `ClientError` evidence's `code` of a refusal (`account.exists`, `not-found`…), if any. */
export function portalErrorCode(error: unknown): string | undefined {
  return isClientError(error, 'portal.refused') ? refusalCode(error) : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{"<Member>": {…}}` → the member and its fields; undefined when the text is not that shape. */
function readAnswer(text: string): { member: string; fields: GatewayFields } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  const entries = Object.entries(value);
  const [first] = entries;
  if (entries.length !== 1 || first === undefined || !isObject(first[1])) return undefined;
  return { member: first[0], fields: first[1] };
}

/** How many times a request is sent again when the portal asks to wait a little. */
const RETRIES_WHEN_ASKED = 3;
/** The longest wait a request sleeps through; a longer one is the caller's to decide. */
const LONGEST_WAIT_S = 5;
/** The refusals that say nothing of the request was kept and to come back shortly. */
const WAIT_CODES: ReadonlySet<string> = new Set(['rate.limited', 'log.pushback']);

/** Seconds to wait before sending the same request again, or undefined: not a refusal to wait out. */
function waitAsked(answer: PortalAnswer): number | undefined {
  if (answer.status !== 429 && answer.status !== 503) return undefined;
  const wait = answer.retryAfterSeconds;
  if (wait === undefined || wait > LONGEST_WAIT_S) return undefined;
  const code = readAnswer(answer.text)?.fields?.Error;
  return typeof code === 'string' && WAIT_CODES.has(code) ? Math.max(wait, 0.1) : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
