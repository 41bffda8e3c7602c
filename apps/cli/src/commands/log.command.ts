import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  decodeNote,
  isLogError,
  KEY_TYPE_ED25519,
  LogError,
  toBase64,
  verifyLog,
  type PartInput,
  type VerifierKey,
} from '@cryptomesh/log';
import { TiledLog, isClientError, verifyTiledLog } from '@cryptomesh/client';
import { CliUsageError } from '../cli-io';
import type { LogCommandContext } from './log.commands';

interface LogVerifyOptions {
  readonly key?: string;
  readonly origin?: string;
  readonly url?: string;
}

const NOTE_FILE = /^(0|[1-9][0-9]*)\.note$/;
const ENTRIES_FILE = /^(0|[1-9][0-9]*)\.entries\.jsonl$/;

/**
 * `mesh log verify [--key VKEY] [--origin O] DIR`: verifies a log exported as files
 * (docs/log-export.md) as a peer does before mirroring it: every seal's signature, part digest,
 * chain, tree size and root against the previous seal, contiguity and time (`verifyLog`), reading
 * the entries as a stream so that a log of any size verifies in constant memory. Without --key it
 * trusts DIR/verifier-key.txt and says so. Exit 1 with the first violation; exit 2 for bad usage.
 */
export function registerLogVerifyCommand(program: Command, context: LogCommandContext): void {
  program
    .command('log')
    .description('transparency logs')
    .command('verify')
    .description('verify an exported log: seals, part digests, chain, tree consistency, entries')
    .argument('[dir]', 'the export directory (docs/log-export.md)')
    .option('--key <vkey>', "the portal's verifier key (default: the export's verifier-key.txt)")
    .option('--origin <origin>', 'the origin every seal must carry (default: the key name)')
    .option(
      '--url <prefix>',
      'verify a remote log through C2SP tlog-tiles instead: its prefix, e.g. https://query.example/logs/self',
    )
    .action(async (dir: string | undefined, options: LogVerifyOptions) => {
      if (options.url !== undefined) {
        if (dir !== undefined) throw new CliUsageError('give either <dir> or --url, not both');
        if (options.key === undefined)
          throw new CliUsageError('--url needs --key: the log verifier key to pin');
        await verifyRemote(context, options.url, context.verifierKey(options.key, KEY_TYPE_ED25519, '--key'));
        return;
      }
      if (dir === undefined) throw new CliUsageError('give the export directory <dir>, or --url');
      await verifyExport(context, dir, options);
    });
}

/** `mesh log verify DIR`: the exported log, part by part. */
async function verifyExport(
  context: LogCommandContext,
  dir: string,
  options: LogVerifyOptions,
): Promise<void> {
  const { io } = context;
  const key = await trustedKey(context, dir, options.key);
  const listing = await listParts(dir);
  if (typeof listing === 'string') {
    context.fail(listing);
    return;
  }
  const { count } = listing;
  let current = 0;
  async function* parts(): AsyncGenerator<PartInput> {
    for (current = 0; current < count; current++) {
      const seal = decodeNote(await readFile(join(dir, 'parts', `${current}.note`)));
      yield { entries: readEntries(join(dir, 'parts', `${current}.entries.jsonl`)), seal };
    }
  }
  try {
    const verdict = await verifyLog(parts(), {
      logKey: key,
      ed25519: context.ed25519,
      ...(options.origin === undefined ? {} : { origin: options.origin }),
    });
    if (!verdict.ok) {
      const { violation } = verdict;
      const where = `part ${violation.part ?? current}${violation.entry === undefined ? '' : ` entry ${violation.entry}`}`;
      io.stdout(`verified ${plural(verdict.parts, 'part')} before the failure`);
      context.fail(violation, where);
      return;
    }
    const head = verdict.head;
    io.stdout(
      `OK verified ${verdict.parts} parts, ${head?.size ?? 0} entries of ${head?.origin ?? key.name}`,
    );
    if (head !== undefined) {
      io.stdout(`head  part ${head.part.index}, size ${head.size}, root ${toBase64(head.root)}`);
      io.stdout(
        `chain ${toBase64(head.chain)}, time ${head.timeMs} (${new Date(head.timeMs).toISOString()})`,
      );
    }
  } catch (error) {
    // Raised while reading the files rather than by a check: still a verdict on this part.
    if (!isLogError(error)) throw error;
    context.fail(error, `part ${current}`);
  }
}

/**
 * `mesh log verify --url PREFIX --key VKEY`: the remote log through its tiles (`verifyTiledLog` of
 * the SDK): the checkpoint opens with the pinned key, and every entry of every bundle, hashed in a
 * compact range (constant memory), makes its root. A progress line on stderr; exit 1 on a failure.
 * HTTPS trusts `--ca` (else MESH_CA_FILE) when given, as every other `mesh` command.
 */
async function verifyRemote(context: LogCommandContext, url: string, key: VerifierKey): Promise<void> {
  const { io } = context;
  const prefix = url.replace(/\/+$/, '');
  if (!/^https?:\/\//.test(prefix))
    throw new CliUsageError(`--url must be an http(s) URL, got ${JSON.stringify(url)}`);
  context.fetchImpl.resolve(); // a bad --ca is a usage error, not an unreachable log
  let last = 0;
  try {
    const checkpoint = await verifyTiledLog(
      new TiledLog(prefix, context.fetchImpl),
      key,
      (entries, size) => {
        if (entries === size || Date.now() - last > 1000) {
          last = Date.now();
          io.stderr(`verified ${entries} / ${size} entries`);
        }
      },
      context.ed25519,
    );
    io.stdout(`OK verified ${checkpoint.size} entries of ${checkpoint.origin} through its tiles`);
    io.stdout(`checkpoint size ${checkpoint.size}, root ${toBase64(checkpoint.root)}`);
  } catch (error) {
    if (isClientError(error)) {
      context.fail(error.message, error.code);
      return;
    }
    if (isLogError(error)) {
      context.fail(error, 'tiles');
      return;
    }
    throw error;
  }
}

async function trustedKey(
  context: LogCommandContext,
  dir: string,
  option: string | undefined,
): Promise<VerifierKey> {
  if (option !== undefined) return context.verifierKey(option, KEY_TYPE_ED25519, '--key');
  const file = join(dir, 'verifier-key.txt');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliUsageError(
      `no --key given and cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  const key = context.verifierKey(text, KEY_TYPE_ED25519, file);
  context.io.stderr(`mesh: trusting the key in ${file}; pass --key to pin the portal's key`);
  return key;
}

/** The number of parts, or why the listing is not a complete export. */
async function listParts(dir: string): Promise<{ count: number } | string> {
  let names: string[];
  try {
    names = await readdir(join(dir, 'parts'));
  } catch (error) {
    throw new CliUsageError(
      `cannot read ${join(dir, 'parts')}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  const numbers = (pattern: RegExp): Set<number> =>
    new Set(names.flatMap((n) => (pattern.test(n) ? [Number(pattern.exec(n)![1])] : [])));
  const notes = numbers(NOTE_FILE);
  const entries = numbers(ENTRIES_FILE);
  const count = notes.size;
  for (let n = 0; n < count; n++) {
    if (!notes.has(n)) return `parts/${n}.note is missing, but the export has ${count} seals (verify.gap)`;
    if (!entries.has(n)) return `parts/${n}.entries.jsonl is missing`;
  }
  const stray = [...entries].find((n) => n >= count);
  if (stray !== undefined) return `parts/${stray}.entries.jsonl has no seal`;
  return { count };
}

/**
 * The entries of one part, one per line: each line is the entry's exact bytes, then 0x0A
 * (canonical JSON never holds a raw newline). Read as a stream; the file MUST end with a newline.
 */
async function* readEntries(path: string): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      if (pending.length === 0) {
        yield new Uint8Array(piece);
      } else {
        pending.push(piece);
        yield concat(pending);
        pending = [];
      }
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(new Uint8Array(chunk.subarray(start)));
  }
  if (pending.length > 0) throw new LogError('entry.malformed', `${path} does not end with a newline`);
}

function concat(pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of pieces) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
