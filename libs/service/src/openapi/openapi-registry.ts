import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_IDENTITY, ServiceIdentity } from '../service-identity';

/** The parts of an OpenAPI 3.1 document a feature module contributes. */
export interface OpenApiFragment {
  readonly tags?: ReadonlyArray<{ readonly name: string; readonly description?: string }>;
  readonly paths: Readonly<Record<string, unknown>>;
  readonly schemas?: Readonly<Record<string, unknown>>;
}

/**
 * Collects the OpenAPI fragments of the features a service hosts — one for the gateway service, one
 * for the query service, both for the all-in-one portal — and serves them as one document at
 * `GET /openapi.json`. The operational paths (/health, /metrics) are always included.
 */
@Injectable()
export class OpenApiRegistry {
  private readonly fragments: OpenApiFragment[] = [];

  constructor(@Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity) {}

  add(fragment: OpenApiFragment): void {
    this.fragments.push(fragment);
  }

  document(): Record<string, unknown> {
    const all = [OPERATIONS, ...this.fragments];
    return {
      openapi: '3.1.0',
      info: {
        title: `CryptoMesh Portal — ${this.identity.name}`,
        version: this.identity.version,
        description: 'See docs/PROTOCOL.md (the Mesh protocol) and docs/design/ in the repository.',
      },
      tags: all.flatMap((f) => f.tags ?? []),
      paths: Object.assign({}, ...all.map((f) => f.paths)) as Record<string, unknown>,
      components: {
        schemas: Object.assign({}, ...all.map((f) => f.schemas ?? {})) as Record<string, unknown>,
      },
    };
  }
}

const OPERATIONS: OpenApiFragment = {
  tags: [{ name: 'operations', description: 'Health and metrics, on every service' }],
  paths: {
    '/health': {
      get: {
        tags: ['operations'],
        summary: 'Readiness: every dependency check up',
        responses: {
          '200': {
            description: 'Ready',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } },
          },
          '503': {
            description: 'Not ready, or draining',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } },
          },
        },
      },
    },
    '/health/live': {
      get: { tags: ['operations'], summary: 'Liveness', responses: { '200': { description: 'Alive' } } },
    },
    '/metrics': {
      get: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        responses: {
          '200': {
            description: 'Text exposition format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
  },
  schemas: {
    Health: {
      type: 'object',
      required: ['status', 'service', 'checks'],
      properties: {
        status: { enum: ['ok', 'unavailable', 'draining'] },
        service: { type: 'string' },
        version: { type: 'string' },
        uptimeSeconds: { type: 'integer' },
        checks: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['status', 'latencyMs'],
            properties: {
              status: { enum: ['up', 'down'] },
              latencyMs: { type: 'number' },
              error: { type: 'string' },
            },
          },
        },
      },
    },
  },
};
