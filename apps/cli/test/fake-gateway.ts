import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeEd25519 } from '@cryptomesh/crypto/eddsa';
import type { FetchLike } from '@cryptomesh/client';
import { KEY_TYPE_ED25519, makeNoteSigner } from '@cryptomesh/log';
import { accountUdf } from '@cryptomesh/crypto';
import { connectWitness, readProfileOf } from '@cryptomesh/mesh';
import { runCaptured, type CaptureOptions } from './run-captured';

/** What a fake gateway answers to one transaction: its response fields (Status 200 added), or a refusal. */
export type FakeTransaction = (
  body: Record<string, unknown>,
) => Record<string, unknown> | { status: number; fields: Record<string, unknown> };

/**
 * A portal for the CLI's unit tests, in memory: Hello (a real log verifier key, no witness, quorum 0)
 * and `/federation` (no peer) as apps/gateway and apps/query answer them, plus whatever transactions
 * a test scripts. It checks nothing: it only lets a command reach the step a test is about. `calls`
 * lists the transactions and paths asked, in order.
 */
export class FakeGateway {
  readonly url = 'https://portal.example';
  readonly calls: string[] = [];
  readonly transactions = new Map<string, FakeTransaction>();
  private readonly signer = makeNoteSigner(
    'portal.example/log',
    KEY_TYPE_ED25519,
    new Uint8Array(32).fill(7),
    nodeEd25519,
  );

  readonly fetch: FetchLike = (url, init) => {
    const path = new URL(url).pathname;
    if (path === '/federation') {
      this.calls.push('GET /federation');
      return Promise.resolve(json(200, { portal: { id: 'fake', witnessKey: null, quorum: 0 }, peers: [] }));
    }
    if (path !== '/.well-known/mmm/') return Promise.resolve(json(404, { error: { code: 'not-found' } }));
    const request = JSON.parse(bodyText(init)) as Record<string, Record<string, unknown>>;
    const [member, body] = Object.entries(request)[0]!;
    const name = member.replace(/Request$/, '');
    this.calls.push(name);
    if (name === 'Hello')
      return Promise.resolve(
        json(200, {
          HelloResponse: {
            Status: 200,
            Version: '1.0',
            PortalId: 'fake',
            Origin: 'portal.example/log',
            VerifierKey: this.signer.verifierKey.text,
            Policy: { MaxRequestBytes: 1 << 20, MaxProfileBytes: 1 << 16, ProofOfWork: { Level: 0 } },
          },
        }),
      );
    const handler = this.transactions.get(name);
    if (handler === undefined)
      return Promise.resolve(json(400, { [`${name}Response`]: { Status: 400, Error: 'unsupported' } }));
    const answer = handler(body);
    const refused = 'status' in answer && 'fields' in answer;
    const status = refused ? (answer.status as number) : 200;
    const fields = refused ? (answer.fields as Record<string, unknown>) : answer;
    return Promise.resolve(json(status, { [`${name}Response`]: { Status: status, ...fields } }));
  };

  /** The witness of the last ConnectStart, as both devices compute it (connectWitness). */
  lastWitness: string | undefined;

  /** ConnectStart answered as the gateway does: a request id, the device's id, the nonce relayed. */
  acceptConnectStart(requestId = 'request-1'): void {
    this.transactions.set('ConnectStart', (body) => {
      const device = readProfileOf(body.Device, 'device').profile;
      this.lastWitness = connectWitness(accountUdf(body.Account as string), device, body.Nonce as string);
      return { RequestId: requestId, DeviceId: device.id, Nonce: body.Nonce };
    });
  }
}

/** The request body as text (the SDK always sends a string). */
export function bodyText(init: RequestInit | undefined): string {
  return typeof init?.body === 'string' ? init.body : '';
}

function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
}

/** A fresh MESH_HOME per test, removed afterwards; `mesh` runs there with a fetch that must not be used. */
export function testHome(): { readonly dir: () => string; mesh: typeof meshIn } {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-home-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir: () => dir,
    mesh: (argv, options = {}) => meshIn(argv, { env: { MESH_HOME: dir }, ...options }),
  };
}

/**
 * Runs `mesh` in-process; by default every request fails the test (a usage error must be caught
 * before anything is sent). Resolves with the exit status, stdout lines and stderr as one string.
 */
export async function meshIn(argv: readonly string[], options: CaptureOptions = {}) {
  const noNetwork: FetchLike = (url) => Promise.reject(new Error(`unexpected request to ${url}`));
  const run = await runCaptured(argv, { fetchImpl: noNetwork, ...options });
  return { code: run.code, out: run.out, err: run.err.join('\n') };
}
