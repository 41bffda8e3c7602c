import type { OpenApiFragment } from '@cryptomesh/service';
import { FINDING_KINDS, FINDING_STATUSES } from './federation-reader';
import { DEFAULT_FINDINGS_LIMIT, MAX_FINDINGS_LIMIT } from './federation.service';

/** The OpenAPI description of the query API (DESIGN.md "HTTP", docs/design/query.md). */
const peer = {
  name: 'peer',
  in: 'path',
  required: true,
  description:
    '`self`, or the id of a peer in the federation roster (its mirror); another name is 404 peer.unknown',
  schema: { type: 'string' },
};
const index = (name: string, description: string) => ({
  name,
  in: 'query',
  required: true,
  description,
  schema: { type: 'integer', minimum: 0 },
});
const json = (schema: unknown, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const error = json(
  { $ref: '#/components/schemas/QueryError' },
  'Refused: { "error": { "code", "message" } }',
);
const hashes = { type: 'array', items: { type: 'string', contentEncoding: 'base64' } };

export function queryOpenApi(): OpenApiFragment {
  return {
    tags: [
      { name: 'log', description: "This portal's log and the mirrors of its peers' logs" },
      { name: 'federation', description: 'The federation: peers, cosignatures, findings' },
    ],
    paths: {
      '/logs/{peer}/checkpoint': {
        get: {
          tags: ['log'],
          summary: 'The latest seal with every cosignature collected (a C2SP signed note)',
          description:
            'The seal as its log key signed it, then each stored cosignature over it, by witness id.',
          parameters: [peer],
          responses: {
            '200': { description: 'The note', content: { 'text/plain': { schema: { type: 'string' } } } },
            '404': error,
          },
        },
      },
      '/logs/{peer}/tile/{tile}': {
        get: {
          tags: ['log'],
          summary: 'A C2SP tlog-tiles hash tile or entry bundle',
          description:
            '`{tile}` is `<L>/<N>[.p/<W>]` (a hash tile: the hashes of tree level 8·L, 32 bytes each) or ' +
            '`entries/<N>[.p/<W>]` (an entry bundle: each entry as a big-endian uint16 length and its leaf ' +
            'bytes), N in zero-padded 3-digit elements, all but the last prefixed x (C2SP tlog-tiles). ' +
            'Full tiles carry `Cache-Control: public, max-age=31536000, immutable`, partial ones a short max-age.',
          parameters: [peer, { name: 'tile', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'The tile',
              content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
            },
            '400': error,
            '404': error,
          },
        },
      },
      '/logs/{peer}/parts/{n}': {
        get: {
          tags: ['log'],
          summary: 'Part n: it covers entries [first, size)',
          parameters: [
            peer,
            { name: 'n', in: 'path', required: true, schema: { type: 'integer', minimum: 0 } },
          ],
          responses: {
            '200': json(
              {
                type: 'object',
                required: ['part', 'first', 'size', 'seal'],
                properties: {
                  part: { type: 'integer' },
                  first: { type: 'integer' },
                  size: { type: 'integer' },
                  seal: { type: 'string' },
                },
              },
              'The part and its seal',
            ),
            '400': error,
            '404': error,
          },
        },
      },
      '/logs/{peer}/entries': {
        get: {
          tags: ['log'],
          summary: 'Entries [start, end), at most 1000, never beyond the latest seal',
          parameters: [peer, index('start', 'First entry'), index('end', 'One past the last entry')],
          responses: {
            '200': json(
              { type: 'object', required: ['entries'], properties: { entries: hashes } },
              'The entries, base64 of their exact bytes',
            ),
            '400': error,
            '404': error,
          },
        },
      },
      '/logs/{peer}/key-transitions': {
        get: {
          tags: ['log'],
          summary: 'Every log key transition the latest seal covers, oldest first',
          description:
            'Each entry is self-contained: a statement signed by the old and the next log key (docs/design/log-format.md "Key transitions").',
          parameters: [peer],
          responses: {
            '200': json(
              {
                type: 'object',
                required: ['size', 'transitions'],
                properties: {
                  size: { type: 'integer' },
                  transitions: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['index', 'entry'],
                      properties: { index: { type: 'integer' }, entry: { type: 'string' } },
                    },
                  },
                },
              },
              'The transitions: entry index and base64 entry bytes',
            ),
            '400': error,
            '404': error,
          },
        },
      },
      '/logs/{peer}/proofs/inclusion': {
        get: {
          tags: ['log'],
          summary: 'RFC 9162 §2.1.3 inclusion proof of entry `index` in the sealed tree of `size`',
          parameters: [peer, index('index', 'Entry index'), index('size', 'A sealed tree size')],
          responses: {
            '200': json(
              {
                type: 'object',
                required: ['index', 'size', 'path'],
                properties: { index: { type: 'integer' }, size: { type: 'integer' }, path: hashes },
              },
              'The proof',
            ),
            '400': error,
            '404': error,
          },
        },
      },
      '/logs/{peer}/proofs/consistency': {
        get: {
          tags: ['log'],
          summary: 'RFC 9162 §2.1.4 consistency proof between two sealed tree sizes',
          parameters: [peer, index('from', 'The older size'), index('to', 'The newer size')],
          responses: {
            '200': json(
              {
                type: 'object',
                required: ['from', 'to', 'path'],
                properties: { from: { type: 'integer' }, to: { type: 'integer' }, path: hashes },
              },
              'The proof',
            ),
            '400': error,
            '404': error,
          },
        },
      },
      '/accounts/{address}': {
        get: {
          tags: ['log'],
          summary: 'Where an account lives and the ids of its current Master and Personal Profiles',
          description:
            "A hint (docs/design/query.md): every active owner, from this portal's accounts and every verified mirror " +
            '(Owners; the first also at the top level); accounts that moved away or were deleted are skipped. Two ' +
            'owners with different Master Profiles are two people: a client must not pick one for the user. A client ' +
            'reads the profiles with proof and trusts only that.',
          parameters: [
            {
              name: 'address',
              in: 'path',
              required: true,
              description: 'user@domain',
              schema: { type: 'string' },
            },
          ],
          responses: {
            '200': json(
              {
                type: 'object',
                required: ['Address', 'Account', 'Portal', 'Master', 'Personal', 'Owners'],
                properties: {
                  Address: { type: 'string', description: 'The address, normalised' },
                  Account: { type: 'string', description: 'Its account UDF' },
                  Portal: { type: 'string', description: 'The id of the portal it lives at' },
                  Master: { type: 'string', description: 'The current Master Profile id' },
                  Personal: { type: 'string', description: 'The current Personal Profile id' },
                  Owners: {
                    type: 'array',
                    description:
                      "Every log that holds the account active: this portal's own first, then the mirrors by Personal Sequence",
                    items: {
                      type: 'object',
                      required: ['Portal', 'Master', 'Personal'],
                      properties: {
                        Portal: { type: 'string' },
                        Master: { type: 'string' },
                        Personal: { type: 'string' },
                      },
                    },
                  },
                },
              },
              'Where the account lives',
            ),
            '400': error,
            '404': error,
          },
        },
      },
      '/profiles/{udf}': {
        get: {
          tags: ['log'],
          summary:
            'The current signed profile, the entry that set it, its inclusion proof and the checkpoint',
          description: 'docs/design/query.md says how a client verifies the answer.',
          parameters: [
            {
              name: 'udf',
              in: 'path',
              required: true,
              description: 'A profile UDF, or mmm:<udf>[:<account>] (URL-encoded)',
              schema: { type: 'string' },
            },
          ],
          responses: {
            '200': json(
              {
                type: 'object',
                required: ['log', 'id', 'profile', 'index', 'entry', 'proof', 'checkpoint'],
                properties: {
                  log: {
                    type: 'string',
                    description: '`self`, or the peer id of the mirror it was found in',
                  },
                  id: { type: 'string' },
                  account: { type: 'string', description: "The account's UDF" },
                  profile: {
                    type: 'object',
                    description: 'The signed profile (flattened JWS) as in the entry',
                  },
                  index: { type: 'integer' },
                  entry: { type: 'string', contentEncoding: 'base64' },
                  proof: {
                    type: 'object',
                    required: ['index', 'size', 'path'],
                    properties: { index: { type: 'integer' }, size: { type: 'integer' }, path: hashes },
                  },
                  checkpoint: {
                    type: 'string',
                    description:
                      'The seal the proof is against, with its cosignatures: the latest that covers the entry and carries the quorum, else the latest',
                  },
                },
              },
              'The profile with its proof',
            ),
            '400': error,
            '404': error,
          },
        },
      },
      '/': {
        get: {
          tags: ['status'],
          summary:
            'The status page for operators (HTML): every portal, charts of the last hour, open findings',
          responses: { '200': { description: 'The page', content: { 'text/html': {} } } },
        },
      },
      '/status/history': {
        get: {
          tags: ['status'],
          summary:
            'Entries sealed per minute by log, replication lag per peer and minute, and this portal’s head',
          parameters: [
            {
              name: 'minutes',
              in: 'query',
              required: false,
              description: 'The window, 1 – 1440 whole minutes ending with the current one (default 60)',
              schema: { type: 'integer', minimum: 1, maximum: 1440 },
            },
          ],
          responses: {
            '200': { description: 'The series, aligned on `buckets`', content: { 'application/json': {} } },
            '400': error,
          },
        },
      },
      '/federation': {
        get: {
          tags: ['federation'],
          summary:
            'This portal and every peer: head, lag, last seal time, cosignatures given and received, open findings',
          responses: { '200': json({ $ref: '#/components/schemas/Federation' }, 'The federation status') },
        },
      },
      '/findings': {
        get: {
          tags: ['federation'],
          summary: 'Findings with their evidence, newest first',
          parameters: [
            {
              name: 'subject',
              in: 'query',
              required: false,
              description: 'The accused portal id',
              schema: { type: 'string' },
            },
            {
              name: 'kind',
              in: 'query',
              required: false,
              schema: { type: 'string', enum: [...FINDING_KINDS] },
            },
            {
              name: 'status',
              in: 'query',
              required: false,
              schema: { type: 'string', enum: [...FINDING_STATUSES] },
            },
            {
              name: 'limit',
              in: 'query',
              required: false,
              schema: {
                type: 'integer',
                minimum: 1,
                maximum: MAX_FINDINGS_LIMIT,
                default: DEFAULT_FINDINGS_LIMIT,
              },
            },
          ],
          responses: {
            '200': json(
              {
                type: 'object',
                required: ['findings'],
                properties: { findings: { type: 'array', items: { $ref: '#/components/schemas/Finding' } } },
              },
              'The findings',
            ),
            '400': error,
          },
        },
      },
    },
    schemas: {
      ...federationSchemas(),
      QueryError: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: { code: { type: 'string' }, message: { type: 'string' } },
          },
        },
      },
    },
  };
}

const integer = { type: 'integer' };
const text = { type: 'string' };
const nullable = (type: string) => ({ type: [type, 'null'] });

function federationSchemas(): Record<string, unknown> {
  return {
    Federation: {
      type: 'object',
      required: ['portal', 'peers'],
      properties: {
        portal: {
          type: 'object',
          description:
            'This portal; id and witnessKey null, quorum 0, before replication recorded a federation',
          required: ['id', 'witnessKey', 'quorum'],
          properties: { id: nullable('string'), witnessKey: nullable('string'), quorum: integer },
        },
        peers: { type: 'array', items: { $ref: '#/components/schemas/PeerStatus' } },
        outsideWitnesses: {
          type: 'array',
          description: 'The outside C2SP tlog-witnesses this portal submits its seals to (OUTSIDE_WITNESSES)',
          items: {
            type: 'object',
            required: [
              'name',
              'url',
              'witnessKey',
              'configured',
              'size',
              'part',
              'cosignedAt',
              'failures',
              'lastError',
              'failedAt',
            ],
            properties: {
              name: text,
              url: text,
              witnessKey: text,
              configured: { type: 'boolean' },
              size: { ...integer, description: 'The tree size it last cosigned (or told, answering 409)' },
              part: { ...nullable('integer'), description: 'The part of the last seal it cosigned' },
              cosignedAt: { ...nullable('string'), format: 'date-time' },
              failures: { ...integer, description: 'Failed requests since its last cosignature' },
              lastError: nullable('string'),
              failedAt: { ...nullable('string'), format: 'date-time' },
            },
          },
        },
      },
    },
    PeerStatus: {
      type: 'object',
      required: [
        'id',
        'origin',
        'verifierKey',
        'witnessKey',
        'queryUrl',
        'configured',
        'head',
        'lagMs',
        'lastSealTime',
        'cosignatures',
        'openFindings',
        'unverifiedClaims',
      ],
      properties: {
        id: text,
        origin: text,
        verifierKey: text,
        witnessKey: text,
        queryUrl: text,
        configured: { type: 'boolean' },
        head: {
          type: ['object', 'null'],
          description: 'The latest mirrored seal',
          required: ['part', 'size', 'timeMs'],
          properties: { part: integer, size: integer, timeMs: integer },
        },
        lagMs: { ...nullable('integer'), description: "Now minus the latest mirrored seal's time" },
        lastSealTime: { ...nullable('string'), format: 'date-time' },
        cosignatures: {
          type: 'object',
          required: ['given', 'received'],
          properties: { given: integer, received: integer },
        },
        openFindings: { ...integer, description: 'Open findings against the peer verified by this portal' },
        unverifiedClaims: {
          ...integer,
          description: "Open findings against the peer that are only another peer's claim, not verified here",
        },
      },
    },
    Finding: {
      type: 'object',
      required: [
        'id',
        'subject',
        'reporter',
        'kind',
        'part',
        'code',
        'detail',
        'evidence',
        'status',
        'verified',
        'observedAt',
        'resolvedAt',
      ],
      properties: {
        id: { type: 'string', description: 'The fingerprint (hex SHA-256)' },
        subject: text,
        reporter: text,
        kind: { type: 'string', enum: [...FINDING_KINDS] },
        part: nullable('integer'),
        code: text,
        detail: text,
        evidence: { description: 'The evidence (both seals for an equivocation)' },
        status: { type: 'string', enum: [...FINDING_STATUSES] },
        verified: {
          type: 'boolean',
          description:
            "False: a peer's claim this portal could not re-verify (shown, never counted; DESIGN.md invariant 7)",
        },
        observedAt: { type: 'integer', description: 'Unix milliseconds' },
        resolvedAt: { ...nullable('integer'), description: 'Unix milliseconds' },
      },
    },
  };
}
