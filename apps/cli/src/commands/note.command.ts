import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  decodeNote,
  findCosigners,
  isLogError,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  openNote,
  parseCheckpoint,
  parseSealBody,
  toBase64,
} from '@cryptomesh/log';
import { CliUsageError } from '../cli-io';
import type { LogCommandContext } from './log.commands';

interface NoteVerifyOptions {
  readonly key: string;
  readonly witness: string[];
  readonly origin?: string;
  readonly quorum: string;
}

/**
 * `mesh note verify --key VKEY [--witness VKEY]… [--origin O] [--quorum N] FILE`: verifies a seal or
 * checkpoint signed by the log key VKEY (C2SP signed-note, tlog-checkpoint; a Mesh seal's part,
 * chain and time lines are parsed strictly), prints its fields and the valid cosignatures among the
 * trusted witness keys (C2SP tlog-cosignature v1). Exit 1 if the note does not verify, if a trusted
 * witness's cosignature fails, or if fewer than N witnesses cosigned; exit 2 for bad usage.
 */
export function registerNoteVerifyCommand(program: Command, context: LogCommandContext): void {
  program
    .command('note')
    .description('signed notes: seals and checkpoints')
    .command('verify')
    .description('verify a seal or checkpoint and its cosignatures')
    .argument('<file>', 'the note, or - for standard input')
    .requiredOption('--key <vkey>', "the log's verifier key, <name>+<key ID>+<base64 key>")
    .option('--witness <vkey>', 'a trusted witness (cosigner) key; repeat for several', collect, [])
    .option('--origin <origin>', 'the origin the checkpoint must carry (default: the key name)')
    .option('--quorum <n>', 'fail unless at least n trusted witnesses cosigned', '0')
    .action(async (file: string, options: NoteVerifyOptions) => {
      const key = context.verifierKey(options.key, KEY_TYPE_ED25519, '--key');
      const witnesses = options.witness.map((w) =>
        context.verifierKey(w, KEY_TYPE_COSIGNATURE_V1, '--witness'),
      );
      if (!/^\d{1,3}$/.test(options.quorum))
        throw new CliUsageError(`--quorum must be a whole number, got ${options.quorum}`);
      const quorum = Number(options.quorum);
      const bytes = await readInput(context, file);
      const { io } = context;
      try {
        const note = decodeNote(bytes);
        const opened = openNote(note, key, context.ed25519);
        const origin = options.origin ?? key.name;
        const checkpoint = parseCheckpoint(opened.text, origin);
        io.stdout(`OK signed by ${key.text}`);
        io.stdout(`origin    ${checkpoint.origin}`);
        io.stdout(`size      ${checkpoint.size}`);
        io.stdout(`root      ${toBase64(checkpoint.root)}`);
        if (checkpoint.extensions.length > 0) {
          const seal = parseSealBody(opened.text, origin);
          io.stdout(
            `part      ${seal.part.index} [${seal.part.first}, ${seal.size}) digest ${toBase64(seal.part.digest)}`,
          );
          io.stdout(`chain     ${toBase64(seal.chain)}`);
          io.stdout(`time      ${seal.timeMs} (${new Date(seal.timeMs).toISOString()})`);
        }
        const report = findCosigners(note, witnesses, context.ed25519);
        for (const { key: w, timestamp } of report.valid) {
          io.stdout(`cosigned  ${w.text} at ${timestamp} (${new Date(timestamp * 1000).toISOString()})`);
        }
        io.stdout(`cosigners ${report.valid.length} of ${witnesses.length} trusted`);
        for (const { key: w, error } of report.invalid) context.fail(error, `cosignature by ${w.name}`);
        if (report.valid.length < quorum) {
          context.fail(`${report.valid.length} trusted witnesses cosigned, the quorum is ${quorum}`);
        }
      } catch (e) {
        if (!isLogError(e)) throw e;
        context.fail(e);
      }
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function readInput(context: LogCommandContext, file: string): Promise<Uint8Array> {
  if (file === '-') return context.io.readStdin();
  try {
    return new Uint8Array(await readFile(file));
  } catch (e) {
    throw new CliUsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}
