#!/usr/bin/env node
import { createInterface } from 'node:readline';
import { installSha2, nodeSha2 } from '@cryptomesh/crypto';
import { runMesh } from './mesh';

// OpenSSL's SHA-2 for the proofs of work (a contact request's, CreateAccount's) and the digests: the
// portable one stays for the browser; this process is Node.
installSha2(nodeSha2);

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** One line: prompted for on a terminal (the prompt on stderr), else the first line of stdin. */
async function readLine(prompt: string): Promise<string | undefined> {
  if (!process.stdin.isTTY) {
    const text = Buffer.from(await readStdin()).toString('utf8');
    return text === '' ? undefined : text.split(/\r?\n/)[0];
  }
  const terminal = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await new Promise<string | undefined>((resolve) => {
      terminal.once('close', () => resolve(undefined));
      terminal.question(prompt, resolve);
    });
  } finally {
    terminal.close();
  }
}

void runMesh(process.argv.slice(2), {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  readStdin,
  readLine,
  env: process.env,
}).then((code) => {
  process.exitCode = code;
});
