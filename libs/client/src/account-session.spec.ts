import { generateKeyPair } from '@cryptomesh/crypto/portable';
import {
  applicationProfileId,
  buildApplicationProfile,
  buildDeviceProfile,
  buildMasterProfile,
  buildPersonalProfile,
  type SignedProfile,
} from '@cryptomesh/mesh';
import { AccountSession, type LogCheck } from './account-session';
import { MemoryClientStore } from './client-store';
import { generateDeviceKeys, generateMasterKey, saveDeviceKeys } from './device-keys';
import { GatewayClient } from './gateway-client';
import type { FetchLike } from './portal-http';
import { MeshProfileManager } from './profile-manager';
import { accountName, jwsOf, writeProfileDocument, type ActiveProfile } from './profile-document';
import { failure } from '../test/client-failure';

/** A gateway whose Get serves `values` (by id) as they are — forged or not — and nothing else. */
function servingGateway(values: Map<string, unknown>) {
  const fetchImpl: FetchLike = (_url, init) => {
    const body = JSON.parse(init?.body as string) as { GetRequest?: { Id: string }; HelloRequest?: object };
    if (body.HelloRequest !== undefined) {
      // Requests are bound to the Origin Hello answers (issue #14).
      const hello = {
        Status: 200,
        StatusDescription: 'OK',
        Version: '0.2.0',
        PortalId: 'alpha',
        Origin: 'alpha.example/log',
        VerifierKey: 'alpha.example/log+00000000+AQ',
        Policy: { MaxRequestBytes: 65536, MaxProfileBytes: 32768, ProofOfWork: { Level: 0 } },
      };
      return Promise.resolve(new Response(JSON.stringify({ HelloResponse: hello }), { status: 200 }));
    }
    const value = body.GetRequest === undefined ? undefined : values.get(body.GetRequest.Id);
    const fields =
      value === undefined
        ? { Status: 404, StatusDescription: 'no such profile', Error: 'not-found' }
        : { Status: 200, StatusDescription: 'OK', Id: body.GetRequest!.Id, Value: value };
    return Promise.resolve(new Response(JSON.stringify({ GetResponse: fields }), { status: fields.Status }));
  };
  return new GatewayClient('https://alpha.example', fetchImpl);
}

async function account() {
  const admin = generateDeviceKeys();
  const other = generateDeviceKeys();
  const masterKey = generateMasterKey();
  const master = await buildMasterProfile({ administrators: [admin.signature], created: 1 }, masterKey);
  const appId = (personalId: string) => applicationProfileId(personalId, 'password', 'default');
  const bare = await buildPersonalProfile(
    { master: master.profile.id, sequence: 0, devices: [admin] },
    admin.signature,
  );
  const personal = await buildPersonalProfile(
    {
      master: master.profile.id,
      sequence: 1,
      devices: [admin, other],
      applications: [{ id: appId(bare.profile.id), type: 'password', signers: [admin.signature] }],
    },
    admin.signature,
  );
  return { admin, other, masterKey, master, personal, appId: appId(personal.profile.id) };
}

/** `signed` with the payload of `other`: a JWS whose signature no longer verifies. */
const forge = (signed: SignedProfile, other: SignedProfile) => ({
  ...jwsOf(signed),
  payload: other.jws.payload,
});

describe('AccountSession: what a gateway serves is checked before it is returned', () => {
  it('returns profiles that keep their signing rules, after the log check saw each', async () => {
    const a = await account();
    const app = await buildApplicationProfile(
      { personal: a.personal.profile.id, type: 'password', name: 'default' },
      a.admin.signature,
    );
    const values = new Map<string, unknown>([
      [a.master.profile.id, jwsOf(a.master)],
      [a.personal.profile.id, jwsOf(a.personal)],
      [a.appId, jwsOf(app)],
    ]);
    const seen: string[] = [];
    const logCheck: LogCheck = (signed) => {
      seen.push(signed.profile.kind);
      return Promise.resolve();
    };
    const session = new AccountSession(
      servingGateway(values),
      'alice@example.com',
      'MA',
      a.admin,
      {},
      logCheck,
    );
    const master = await session.master(a.master.profile.id);
    const personal = await session.personal(master, a.personal.profile.id);
    expect((await session.application(master, personal, a.appId))?.profile.id).toBe(a.appId);
    expect(
      await session.application(master, personal, applicationProfileId(personal.profile.id, 'mail', 'x')),
    ).toBeUndefined();
    expect(seen).toEqual(['master', 'personal', 'application']);
  });

  it('refuses a forged or substituted profile with verify.profile naming the portal', async () => {
    const a = await account();
    const b = await account();
    const stranger = generateKeyPair('Ed25519');
    const notAdmin = await buildPersonalProfile(
      { master: a.master.profile.id, sequence: 2, devices: [a.admin] },
      a.other.signature,
    );
    const unauthorised = await buildApplicationProfile(
      { personal: a.personal.profile.id, type: 'password', name: 'default' },
      stranger,
    );
    const cases: [string, unknown, (s: AccountSession) => Promise<unknown>][] = [
      ['master, bad signature', forge(a.master, b.master), (s) => s.master(a.master.profile.id)],
      ['another master', jwsOf(b.master), (s) => s.master(a.master.profile.id)],
      [
        'personal by a non-administrator',
        jwsOf(notAdmin),
        (s) => s.personal(a.master, a.personal.profile.id),
      ],
      ['personal of another master', jwsOf(b.personal), (s) => s.personal(a.master, a.personal.profile.id)],
      [
        'application by an unauthorised key',
        jwsOf(unauthorised),
        (s) => s.application(a.master, a.personal, a.appId),
      ],
      [
        'no profile at all',
        { protected: 'x', payload: 'y', signature: 'z' },
        (s) => s.master(a.master.profile.id),
      ],
    ];
    for (const [what, value, read] of cases) {
      const values = new Map<string, unknown>([
        [a.master.profile.id, value],
        [a.personal.profile.id, value],
        [a.appId, value],
      ]);
      const session = new AccountSession(servingGateway(values), 'alice@example.com', 'MA', a.admin);
      const error = await failure(read(session));
      expect([what, error.code, error.portal]).toEqual([what, 'verify.profile', 'alpha']);
    }
  });

  it('lets a failed log check fail the read', async () => {
    const a = await account();
    const values = new Map<string, unknown>([[a.master.profile.id, jwsOf(a.master)]]);
    const refuse: LogCheck = () => Promise.reject(new Error('the log disagrees'));
    const session = new AccountSession(
      servingGateway(values),
      'alice@example.com',
      'MA',
      a.admin,
      {},
      refuse,
    );
    await expect(session.master(a.master.profile.id)).rejects.toThrow('the log disagrees');
  });
});

describe('MeshProfileManager.refresh', () => {
  it('refuses a Personal Profile older than the one this device saw (a rolled-back portal)', async () => {
    const a = await account();
    const store = new MemoryClientStore();
    const older = await buildPersonalProfile(
      { master: a.master.profile.id, sequence: 0, devices: [a.admin, a.other] },
      a.admin.signature,
    );
    const device = await buildDeviceProfile(
      { encryption: a.admin.encryption, description: 'laptop' },
      a.admin.signature,
    );
    const doc: ActiveProfile = {
      status: 'active',
      ...accountName('alice@example.com'),
      portal: { gatewayUrl: 'https://alpha.example', queryUrl: 'https://alpha.example', id: 'alpha' },
      device,
      master: a.master,
      personal: a.personal,
      devices: [],
    };
    await writeProfileDocument(store, doc);
    await saveDeviceKeys(store, a.admin);
    const values = new Map<string, unknown>([
      [a.master.profile.id, jwsOf(a.master)],
      [a.personal.profile.id, jwsOf(older)],
    ]);
    const gateway = servingGateway(values);
    const manager = new MeshProfileManager(store, { verifyLog: false });
    const session = new AccountSession(gateway, doc.account, doc.accountUdf, a.admin);
    const error = await failure(manager.refresh(session, doc));
    expect(error).toMatchObject({
      code: 'verify.profile',
      check: 'profile sequence',
      evidence: { seen: 1, served: 0 },
    });
  });
});
