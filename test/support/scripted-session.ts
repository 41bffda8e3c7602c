import { randomBytes } from 'node:crypto';
import { generateKeyPair, keyUdf, toBase64Url } from '@cryptomesh/crypto';
import {
  connectNonce,
  jws,
  newDevice,
  portalOrigin,
  post,
  TestAccount,
  type Answer,
  type Fields,
} from './mesh-client';

/**
 * The acceptance's scripted client session (issue #5) as one function, for the end-to-end tests
 * that run it against the separate services and against `npm start`: create an account; publish an
 * application profile; connect a second device (start → pending → accept → status); reject a third;
 * delete a profile; escrow a blob and fetch it back. Throws on the first answer that is not a
 * success. Resolves to the operations it expects in the log, in order.
 */
export async function runScriptedSession(gatewayUrl: string, address: string): Promise<string[]> {
  const send = async (name: string, body: Fields): Promise<Fields> => {
    const answer: Answer = await post(gatewayUrl, name, body);
    if (answer.status !== 200 || answer.member !== `${name}Response`) {
      throw new Error(`${name}: ${answer.status} ${JSON.stringify(answer.fields)}`);
    }
    return answer.fields;
  };
  const alice = await TestAccount.create(address, undefined, await portalOrigin(gatewayUrl));
  const phone = await newDevice('phone');
  const tablet = await newDevice('tablet');

  await send('CreateAccount', await alice.createAccount());

  const app = await alice.application('mail', 'home', { Address: 'imap.example.net' });
  const authorising = await alice.nextPersonal({ applications: [app.entry] });
  await send('Publish', await alice.publish('update', authorising));
  alice.adopt(authorising, alice.devices, [app.entry]);
  await send('Publish', await alice.publish('create', app.profile));

  const started = await send('ConnectStart', {
    Account: address,
    Device: jws(phone.profile),
    Nonce: connectNonce(),
  });
  const requestId = started.RequestId as string;
  const pending = await send('ConnectPending', await alice.authenticated('ConnectPending'));
  if (!(pending.Requests as Array<{ RequestId: string }>).some((r) => r.RequestId === requestId)) {
    throw new Error('ConnectPending did not list the request');
  }
  const connected = await alice.nextPersonal({ devices: [...alice.devices, phone] });
  await send('ConnectComplete', await alice.acceptConnection(requestId, phone, connected));
  alice.adopt(connected, [...alice.devices, phone], alice.applications);
  const status = await send(
    'ConnectStatus',
    await alice.authenticated('ConnectStatus', { RequestId: requestId }, phone),
  );
  const received = status.Personal as { payload?: string; signature?: string } | undefined;
  const sent = jws(connected) as { payload: string; signature: string };
  if (
    status.Result !== 'accepted' ||
    received?.payload !== sent.payload ||
    received.signature !== sent.signature
  ) {
    throw new Error(`the new device did not receive the updated personal profile: ${JSON.stringify(status)}`);
  }

  const rejected = await send('ConnectStart', {
    Account: address,
    Device: jws(tablet.profile),
    Nonce: connectNonce(),
  });
  await send(
    'ConnectComplete',
    await alice.authenticated('ConnectComplete', { RequestId: rejected.RequestId, Accept: false }),
  );

  await send('Publish', await alice.publish('delete', app.profile.profile.id, phone));

  const key = keyUdf('X25519', generateKeyPair('X25519').publicKey);
  const blob = toBase64Url(randomBytes(200));
  await send('EscrowPut', await alice.authenticated('EscrowPut', { Key: key, Blob: blob }));
  const fetched = await send('EscrowGet', { Key: key });
  if (fetched.Blob !== blob) throw new Error('EscrowGet returned another blob');

  return ['CreateAccount', 'Publish', 'Publish', 'ConnectComplete', 'Publish'];
}
