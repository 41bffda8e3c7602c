import type { OpenApiFragment } from '@cryptomesh/service';

/**
 * The OpenAPI description of the Mesh JSON binding (docs/PROTOCOL.md has the prose and examples).
 * `REQUEST_FIELDS` is the one list of each transaction's request members; a test checks that every
 * registered transaction has an entry here, so a transaction cannot ship undocumented.
 */
const jws = { $ref: '#/components/schemas/Jws' };
const account = { type: 'string', description: 'user@domain, or mmm:<master fingerprint>:<address>' };
const udf = {
  type: 'string',
  pattern: '^[A-Za-z2-7-]+$',
  description: 'A UDF (Base32, groups of 4 joined by -)',
};

const catalogName = { enum: ['contact', 'application', 'credential'] };
const retrievalKey = {
  type: 'string',
  pattern: '^[A-Za-z0-9_-]{43}$',
  description: "A retrieval key: base64url(HMAC-SHA256(catalog key, '<catalog>\\n<natural key>'))",
};
const cursor = {
  type: 'string',
  pattern: '^[0-9]{1,18}$',
  description: 'A paging cursor: a Next answered before',
};

interface TransactionDoc {
  readonly summary: string;
  readonly required: readonly string[];
  readonly properties: Readonly<Record<string, unknown>>;
}

export const REQUEST_FIELDS: Readonly<Record<string, TransactionDoc>> = {
  Hello: { summary: 'Who the portal is: id, origin, keys and policy', required: [], properties: {} },
  ValidateAccount: {
    summary: 'Is an address well-formed and free?',
    required: ['Account'],
    properties: { Account: account },
  },
  CreateAccount: {
    summary: 'Create an account with its Master, Personal and first Device Profiles (logged)',
    required: ['Account', 'Master', 'Personal', 'Devices', 'Authorisation'],
    properties: {
      Account: account,
      Master: jws,
      Personal: jws,
      Devices: { type: 'array', items: jws, minItems: 1 },
      Authorisation: jws,
      ProofOfWork: { type: 'string', description: 'Required when Hello.Policy.ProofOfWork.Level > 0' },
    },
  },
  DeleteAccount: {
    summary: 'Delete an account; its address stays assigned (logged, administrator)',
    required: ['Account', 'Authorisation'],
    properties: { Account: account, Authorisation: jws },
  },
  MoveAccount: {
    summary:
      'Close the account here: it moved to the portal of log origin To (logged, administrator; later requests are 409 account.moved)',
    required: ['Account', 'To', 'Authorisation'],
    properties: {
      Account: account,
      To: { type: 'string', minLength: 1, maxLength: 255, description: "The new home portal's log origin" },
      Authorisation: jws,
    },
  },
  Publish: {
    summary: 'Create, update or delete one profile under the persistence model (logged)',
    required: ['Account', 'Action', 'Id', 'Authorisation'],
    properties: {
      Account: account,
      Action: { enum: ['create', 'update', 'delete'] },
      Id: udf,
      Value: { ...jws, description: 'The signed profile; absent for delete' },
      Authorisation: jws,
    },
  },
  Get: {
    summary: 'A profile by identifier or mmm: URI',
    required: ['Account', 'Id', 'Authentication'],
    properties: { Account: account, Id: { type: 'string' }, Authentication: jws },
  },
  ConnectStart: {
    summary: 'A new device asks to join an account (unauthenticated)',
    required: ['Account', 'Device', 'Nonce'],
    properties: {
      Account: account,
      Device: jws,
      Nonce: {
        type: 'string',
        description:
          '16 random bytes (base64url) chosen by the new device: both devices compute the witness from it',
      },
    },
  },
  ConnectPending: {
    summary: 'The pending connection requests (administrator)',
    required: ['Account', 'Authentication'],
    properties: { Account: account, Authentication: jws },
  },
  ConnectComplete: {
    summary: 'Accept (logged) or reject a connection request (administrator)',
    required: ['Account', 'RequestId', 'Accept'],
    properties: {
      Account: account,
      RequestId: { type: 'string' },
      Accept: { type: 'boolean' },
      Personal: { ...jws, description: 'Accepting: the updated Personal Profile' },
      Device: { ...jws, description: 'Accepting: the Device Profile the request submitted' },
      Authorisation: { ...jws, description: 'Accepting' },
      Authentication: { ...jws, description: 'Rejecting' },
    },
  },
  ConnectClear: {
    summary: 'Reject every pending connection request at once (administrator)',
    required: ['Account', 'Authentication'],
    properties: { Account: account, Authentication: jws },
  },
  ConnectStatus: {
    summary: 'The new device polls its request; signed with its own key',
    required: ['Account', 'RequestId', 'Authentication'],
    properties: { Account: account, RequestId: { type: 'string' }, Authentication: jws },
  },
  EscrowPut: {
    summary: 'Store an escrow blob under the UDF of its key (not logged)',
    required: ['Account', 'Key', 'Blob', 'Authentication'],
    properties: {
      Account: account,
      Key: udf,
      Blob: { type: 'string', contentEncoding: 'base64url' },
      Authentication: jws,
    },
  },
  EscrowGet: {
    summary: 'Fetch an escrow blob by key UDF (unauthenticated)',
    required: ['Key'],
    properties: { Key: udf },
  },
  CatalogUpdate: {
    summary:
      "Create, update or delete one object of the account's contact, application or credential catalog (not logged)",
    required: ['Account', 'Catalog', 'Action', 'Id', 'Value', 'Authentication'],
    properties: {
      Account: account,
      Catalog: catalogName,
      Action: { enum: ['create', 'update', 'delete'] },
      Id: retrievalKey,
      Value: {
        ...jws,
        description:
          'The catalog value (typ application/mmm-catalog+json) signed by a device of the account; for delete, the signed tombstone',
      },
      Authentication: jws,
    },
  },
  CatalogGet: {
    summary: "The objects of one of the account's catalogs, tombstones included, 500 a page",
    required: ['Account', 'Catalog', 'Authentication'],
    properties: {
      Account: account,
      Catalog: catalogName,
      Id: { ...retrievalKey, description: 'Only this object' },
      After: cursor,
      Authentication: jws,
    },
  },
  InboundPost: {
    summary:
      "Send an inbound item (contact request, message, task, confirmation request or answer) to another account: delivered here or relayed to the recipient's portal (not logged)",
    required: ['Account', 'Envelope', 'Authentication'],
    properties: {
      Account: { ...account, description: "The sender's account" },
      Envelope: {
        ...jws,
        description:
          'The envelope (typ application/mmm-inbound+json) signed by a device of the sender; at most Hello.Policy.Inbound.MaxEnvelopeBytes',
      },
      ProofOfWork: {
        type: 'string',
        maxLength: 128,
        description:
          "A contact request to a stranger: a nonce at Hello.Policy.Inbound.ContactProofOfWork over the envelope's work body",
      },
      Authentication: jws,
    },
  },
  InboundList: {
    summary: "The items waiting in the account's inbound spool, oldest first, 100 a page",
    required: ['Account', 'Authentication'],
    properties: {
      Account: account,
      Kind: { enum: ['contact', 'message', 'task', 'confirm', 'answer'] },
      After: cursor,
      Authentication: jws,
    },
  },
  InboundDelete: {
    summary: "Delete items of the account's inbound spool, each by its sender and envelope Id",
    required: ['Account', 'Items', 'Authentication'],
    properties: {
      Account: account,
      Items: {
        type: 'array',
        items: {
          type: 'object',
          required: ['FromAccount', 'Id'],
          additionalProperties: false,
          properties: {
            FromAccount: { type: 'string', description: "the sender's account UDF" },
            Id: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' },
          },
        },
        minItems: 1,
        maxItems: 100,
      },
      Authentication: jws,
    },
  },
  Status: {
    summary: "The account's state as the portal holds it",
    required: ['Account', 'Authentication'],
    properties: { Account: account, Authentication: jws },
  },
};

export function gatewayOpenApi(): OpenApiFragment {
  const names = Object.keys(REQUEST_FIELDS);
  const schemas: Record<string, unknown> = {
    Jws: {
      type: 'object',
      description: 'RFC 7515 flattened JSON serialization; EdDSA; kid = UDF of the signing key',
      required: ['protected', 'payload', 'signature'],
      properties: {
        protected: { type: 'string' },
        payload: { type: 'string' },
        signature: { type: 'string' },
      },
      additionalProperties: false,
    },
    MeshAnswer: {
      type: 'object',
      description: 'Every answer: <Name>Response (ErrorResponse when the name could not be read)',
      minProperties: 1,
      maxProperties: 1,
      additionalProperties: {
        type: 'object',
        required: ['Status', 'StatusDescription'],
        properties: {
          Status: { type: 'integer', description: 'The HTTP status of the answer' },
          StatusDescription: { type: 'string' },
          Error: { type: 'string', description: 'A stable code, on refusals (docs/PROTOCOL.md "Errors")' },
          Reason: { type: 'string', description: 'The Mesh rule that refused the request, where one did' },
        },
      },
    },
  };
  for (const name of names) {
    const doc = REQUEST_FIELDS[name]!;
    schemas[`${name}Request`] = {
      type: 'object',
      description: doc.summary,
      required: [`${name}Request`],
      additionalProperties: false,
      properties: {
        [`${name}Request`]: {
          type: 'object',
          required: [...doc.required],
          properties: doc.properties,
          additionalProperties: false,
        },
      },
    };
  }
  const answer = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/MeshAnswer' } } },
  });
  return {
    tags: [{ name: 'mesh', description: 'The Mesh Portal protocol (JSON web service binding)' }],
    paths: {
      '/.well-known/mmm/': {
        post: {
          tags: ['mesh'],
          summary: 'One Mesh transaction: {"<Name>Request": {…}} → {"<Name>Response": {…}}',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { oneOf: names.map((name) => ({ $ref: `#/components/schemas/${name}Request` })) },
              },
            },
          },
          responses: {
            '200': answer('Done'),
            '400': answer('Malformed or invalid request'),
            '401': answer('Authentication failed'),
            '403': answer('Right not held, wrong signer, insufficient proof of work'),
            '404': answer('Unknown account, object or transaction'),
            '409': answer('Conflict with the persistence model, replay, taken address'),
            '413': answer('Body or profile too large'),
            '415': answer('Not application/json'),
            '429': answer('Rate limited (Retry-After)'),
            '500': answer('The portal failed; nothing was changed'),
          },
        },
      },
    },
    schemas,
  };
}
