import type { OpenApiFragment } from '@cryptomesh/service';

/** The OpenAPI description of the query API (DESIGN.md "HTTP", docs/design/query.md). */
const peer = {
  name: 'peer',
  in: 'path',
  required: true,
  description: '`self`, or a peer portal id (mirrors: issue #6)',
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
    tags: [{ name: 'log', description: "This portal's log and the mirrors of its peers' logs" }],
    paths: {
      '/logs/{peer}/checkpoint': {
        get: {
          tags: ['log'],
          summary: 'The latest seal with every cosignature collected (a C2SP signed note)',
          parameters: [peer],
          responses: {
            '200': { description: 'The note', content: { 'text/plain': { schema: { type: 'string' } } } },
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
                required: ['id', 'profile', 'index', 'entry', 'proof', 'checkpoint'],
                properties: {
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
                  checkpoint: { type: 'string', description: 'The seal the proof is against' },
                },
              },
              'The profile with its proof',
            ),
            '400': error,
            '404': error,
          },
        },
      },
    },
    schemas: {
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
