import type { Command } from 'commander';
import { globalFetch, type FetchLike } from '@cryptomesh/client';
import { ConfigError } from '@cryptomesh/service/config/config-error';
import { caTrustingFetch, readCaFile } from '@cryptomesh/service/tls/ca-fetch';
import { CliUsageError, type CliIo } from '../cli-io';

/**
 * The HTTPS transport of every `mesh` command that goes to the network, resolved at its first
 * request (after the options were parsed): `--ca FILE` (a global option), else env `MESH_CA_FILE`,
 * makes it trust that file's CA certificates — a federation behind a private CA, such as the local
 * one of `federation:up --tls` — and only those; else the platform's fetch and the system's CAs.
 * A file that holds no certificate is a usage error naming the option (exit 2): call `resolve()`
 * before the first request, so that it is not taken for an unreachable portal.
 */
export function lazyTransport(program: Command, io: CliIo): FetchLike & { resolve(): FetchLike } {
  let transport: FetchLike | undefined;
  const resolve = (): FetchLike => {
    if (transport === undefined) {
      const caFile = program.opts<{ ca?: string }>().ca ?? (io.env['MESH_CA_FILE'] || undefined);
      if (caFile === '') throw new CliUsageError('--ca needs a PEM file');
      transport = caFile === undefined ? globalFetch : caTransport(caFile);
    }
    return transport;
  };
  const fetchImpl: FetchLike = (url, init) => resolve()(url, init);
  return Object.assign(fetchImpl, { resolve });
}

/** A fetch that trusts the CA certificates of `file`; a usage error when the file is not one. */
function caTransport(file: string): FetchLike {
  try {
    return caTrustingFetch(readCaFile('--ca', file));
  } catch (error) {
    if (error instanceof ConfigError) throw new CliUsageError(error.message);
    throw error;
  }
}
