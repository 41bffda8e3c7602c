import { nodeEd25519 } from '@cryptomesh/crypto';
import { KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, makeVerifierKey } from '@cryptomesh/log';
import SwaggerParser from '@apidevtools/swagger-parser';
import { createService, RunningService } from '@cryptomesh/service';
import { REQUEST_FIELDS } from '../../apps/gateway/src/gateway.openapi';
import { TRANSACTIONS, type Transaction } from '../../apps/gateway/src/protocol/transaction';
import { gatewayApp } from '../../apps/gateway/src/gateway.app';
import { createTestDatabase, TestDatabase } from '../env/test-database';

/** The Mesh JSON binding's envelope, limits and Hello, against the real gateway on PostgreSQL. */
describe('gateway: the Mesh JSON web service binding', () => {
  let db: TestDatabase;
  let gateway: RunningService;
  const logKey = makeVerifierKey(
    'alpha.example/log',
    KEY_TYPE_ED25519,
    nodeEd25519.publicKeyOf(new Uint8Array(32).fill(1)),
  );
  const witnessKey = makeVerifierKey(
    'alpha.example/witness',
    KEY_TYPE_COSIGNATURE_V1,
    nodeEd25519.publicKeyOf(new Uint8Array(32).fill(2)),
  );

  beforeAll(async () => {
    db = await createTestDatabase('gateway');
    gateway = await createService(gatewayApp, {
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      PORTAL_ID: 'alpha',
      LOG_ORIGIN: 'alpha.example/log',
      LOG_VERIFIER_KEY: logKey.text,
      WITNESS_VERIFIER_KEY: witnessKey.text,
      COSIGNATURE_QUORUM: '2',
      QUERY_URL: 'http://127.0.0.1:9/query/',
      MAX_REQUEST_BYTES: '2048',
      RATE_LIMIT_ADDRESS_PER_MINUTE: '60',
    });
  });

  afterAll(async () => {
    await gateway?.app.close();
    await db?.drop();
  });

  async function post(body: string, contentType = 'application/json') {
    const res = await fetch(`${gateway.url}/.well-known/mmm/`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    return {
      status: res.status,
      headers: res.headers,
      json: (await res.json()) as Record<string, Record<string, unknown>>,
    };
  }

  it('answers Hello with the portal identity, keys and policy', async () => {
    const { status, json } = await post('{"HelloRequest": {}}');
    expect(status).toBe(200);
    expect(json.HelloResponse).toMatchObject({
      Status: 200,
      StatusDescription: 'OK',
      Version: '0.2.0',
      PortalId: 'alpha',
      Origin: 'alpha.example/log',
      VerifierKey: logKey.text,
      WitnessKey: witnessKey.text,
      CosignatureQuorum: 2,
      QueryUrl: 'http://127.0.0.1:9/query',
      Policy: { MaxRequestBytes: 2048, ProofOfWork: { Level: 0 }, RateLimits: { PerAddressPerMinute: 60 } },
    });
  });

  it.each([
    ['{"HelloRequest": ', 400, 'request.malformed'],
    ['["HelloRequest"]', 400, 'request.malformed'],
    ['{"HelloRequest": {}, "StatusRequest": {}}', 400, 'request.malformed'],
    ['{"HelloRequest": 7}', 400, 'request.malformed'],
    ['{"LaunchMissilesRequest": {}}', 404, 'request.unknown-transaction'],
  ])('refuses %j with %i %s in a Mesh envelope', async (body, status, code) => {
    const answer = await post(body);
    expect(answer.status).toBe(status);
    const [member, fields] = Object.entries(answer.json)[0]!;
    expect(member).toMatch(/Response$/);
    expect(fields).toMatchObject({ Status: status, Error: code });
    expect(typeof fields.StatusDescription).toBe('string');
  });

  it('refuses a body over MAX_REQUEST_BYTES with 413 in a Mesh envelope', async () => {
    const answer = await post(JSON.stringify({ HelloRequest: { Padding: 'x'.repeat(4096) } }));
    expect(answer.status).toBe(413);
    expect(answer.json.ErrorResponse).toMatchObject({ Status: 413, Error: 'request.too-large' });
    expect(answer.json.ErrorResponse?.StatusDescription).toContain('2048');
  });

  it.each(['text/plain', 'application/xml'])('refuses a body sent as %s with 415', async (type) => {
    const answer = await post('{"HelloRequest": {}}', type);
    expect(answer.status).toBe(415);
    expect(Object.values(answer.json)[0]).toMatchObject({
      Status: 415,
      Error: 'request.unsupported-media-type',
    });
  });

  it('refuses a Hello with a field it does not define (docs/PROTOCOL.md), issue #16', async () => {
    const answer = await post('{"HelloRequest": {"Debug": true}}');
    expect(answer.status).toBe(400);
    expect(answer.json.HelloResponse).toMatchObject({ Status: 400, Error: 'request.invalid' });
  });

  // Few requests here: the address's bucket (10) is shared with the rate-limit test below.
  it.each(['application/json; charset=iso-8859-1'])(
    'refuses a body sent as %s with 415 instead of reading it as UTF-8, issue #16',
    async (type) => {
      const answer = await post('{"HelloRequest": {}}', type);
      expect(answer.status).toBe(415);
      expect(Object.values(answer.json)[0]).toMatchObject({ Error: 'request.unsupported-media-type' });
    },
  );

  it.each(['application/json; charset=UTF-8'])('reads a body sent as %s', async (type) => {
    expect((await post('{"HelloRequest": {}}', type)).status).toBe(200);
  });

  it.each(['GET', 'PUT', 'DELETE', 'PATCH'])(
    'answers %s on /.well-known/mmm/ with 405 and Allow: POST, issue #16',
    async (method) => {
      const res = await fetch(`${gateway.url}/.well-known/mmm/`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
      const json = (await res.json()) as Record<string, Record<string, unknown>>;
      expect(json.ErrorResponse).toMatchObject({ Status: 405, Error: 'request.method-not-allowed' });
    },
  );

  it('limits the requests of one address and says when to retry', async () => {
    let limited: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const answer = await post('{"HelloRequest": {}}');
      if (answer.status === 429) limited = answer;
    }
    expect(limited).toBeDefined();
    // Refused before the body is read, so the answer is an ErrorResponse.
    expect(limited!.json.ErrorResponse).toMatchObject({ Status: 429, Error: 'rate.limited' });
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('gateway: OpenAPI description', () => {
  let db: TestDatabase;
  let gateway: RunningService;

  beforeAll(async () => {
    db = await createTestDatabase('openapi');
    gateway = await createService(gatewayApp, {
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      PORTAL_ID: 'alpha',
      LOG_ORIGIN: 'alpha.example/log',
      LOG_VERIFIER_KEY: makeVerifierKey(
        'alpha.example/log',
        KEY_TYPE_ED25519,
        nodeEd25519.publicKeyOf(new Uint8Array(32).fill(1)),
      ).text,
    });
  });

  afterAll(async () => {
    await gateway?.app.close();
    await db?.drop();
  });

  it('serves a valid OpenAPI 3.1 document that describes every transaction the gateway answers', async () => {
    const res = await fetch(`${gateway.url}/openapi.json`);
    expect(res.status).toBe(200);
    const document = (await res.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    await SwaggerParser.validate(structuredClone(document) as never);
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/.well-known/mmm/', '/health', '/metrics']),
    );

    // Every transaction the gateway answers (anything but 404 unknown-transaction) has its schema: the
    // thirteen of DESIGN.md "HTTP", MoveAccount (issue #14, hole 6), ConnectClear (issue #15;
    // docs/PROTOCOL.md) and the catalog and inbound services (issue #20; docs/design/inbound.md).
    const answered = gateway.app.get<Transaction[]>(TRANSACTIONS).map((t) => t.name);
    expect(answered).toHaveLength(20);
    for (const name of answered) expect(document.components.schemas[`${name}Request`]).toBeDefined();
    expect(Object.keys(REQUEST_FIELDS).sort()).toEqual([...answered].sort());
  });
});
