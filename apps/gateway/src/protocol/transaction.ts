import type { MeshResponseFields } from './envelope';

/** What the gateway knows of a request besides its body. */
export interface RequestContext {
  /** The client's address as the HTTP server saw it (behind a proxy: see TRUST_PROXY). */
  readonly clientAddress: string;
  /** When the request arrived, in Unix milliseconds. */
  readonly receivedAtMs: number;
  /** The request's id (`X-Request-Id`), queued with a logged entry for the log-signer's log line. */
  readonly requestId?: string;
}

/**
 * One transaction of the Mesh Portal protocol. `handle` MUST either return the response fields
 * after every state change it made is committed (acknowledged ⇒ durable), or throw without having
 * changed anything.
 */
export interface Transaction {
  readonly name: string;
  handle(body: Readonly<Record<string, unknown>>, context: RequestContext): Promise<MeshResponseFields>;
}

export const TRANSACTIONS = Symbol('TRANSACTIONS');
