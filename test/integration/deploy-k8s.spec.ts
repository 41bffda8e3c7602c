import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadGatewayConfig } from '../../apps/gateway/src/gateway.config';
import { loadLogSignerConfig } from '../../apps/log-signer/src/log-signer.config';
import { loadQueryConfig } from '../../apps/query/src/query.config';
import { loadReplicationConfig } from '../../apps/replication/src/replication.config';
import { parseFederationPeers } from '@cryptomesh/intermesh';
import { readTlsMaterial } from '@cryptomesh/service';
import { SERVICE_MAIN, SERVICE_NODE_FLAGS } from '../support/federation';
import { byKindAndName, type K8sObject, kubectlKustomize, kustomize } from '../support/kustomize';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { init } = require('../../deploy/compose/init') as {
  init: (dir: string, log?: (m: string) => void) => Promise<{ dir: string }>;
};

const ROOT = resolve(__dirname, '../..');
const OVERLAY = join(ROOT, 'deploy/k8s/overlays/alpha');
const README = readFileSync(join(ROOT, 'deploy/k8s/README.md'), 'utf8');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: { name: string; key: string };
    secretKeyRef?: { name: string; key: string };
  };
}
interface Probe {
  httpGet: { path: string; port: string; scheme: string };
}
interface Container {
  name: string;
  image: string;
  command: string[];
  ports?: Array<{ name: string; containerPort: number }>;
  env: EnvVar[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface Volume {
  name: string;
  secret?: { secretName: string };
  configMap?: { name: string };
  emptyDir?: unknown;
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: { containers: Container[]; volumes?: Volume[] };
}
type Workload = K8sObject & {
  spec: {
    replicas?: number;
    strategy?: { type: string };
    selector?: { matchLabels: Record<string, string> };
    template: PodTemplate;
  };
};

const SCHEMAS: Record<string, () => new (o: unknown) => { validate(): void }> = {
  /* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return */
  'apps/v1/Deployment': () => require('kubernetes-models/apps/v1').Deployment,
  'batch/v1/Job': () => require('kubernetes-models/batch/v1').Job,
  'v1/Service': () => require('kubernetes-models/v1').Service,
  'v1/ConfigMap': () => require('kubernetes-models/v1').ConfigMap,
  'policy/v1/PodDisruptionBudget': () => require('kubernetes-models/policy/v1').PodDisruptionBudget,
  /* eslint-enable @typescript-eslint/no-require-imports, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return */
};

const workloads = (objects: K8sObject[]): Workload[] =>
  objects.filter((o): o is Workload => o.kind === 'Deployment' || o.kind === 'Job');
const find = (objects: K8sObject[], kind: string, name: string): K8sObject =>
  objects.find((o) => o.kind === kind && o.metadata.name === name)!;
const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Every ConfigMap key, Secret, volume and port that a workload names but nothing defines. */
function danglingReferences(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    const pod = w.spec.template.spec;
    const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
    for (const c of pod.containers) {
      for (const e of c.env) {
        const ref = e.valueFrom?.configMapKeyRef;
        if (ref && find(objects, 'ConfigMap', ref.name)?.data?.[ref.key] === undefined)
          problems.push(`${w.metadata.name}: ${e.name} → configmap ${ref.name}/${ref.key}`);
      }
      for (const m of c.volumeMounts ?? [])
        if (!volumes.has(m.name)) problems.push(`${w.metadata.name}: mount of undefined volume ${m.name}`);
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe])
        if (probe && !c.ports?.some((p) => p.name === probe.httpGet.port))
          problems.push(`${w.metadata.name}: probe on undefined port ${probe.httpGet.port}`);
    }
    for (const v of volumes.values())
      if (v.configMap && !find(objects, 'ConfigMap', v.configMap.name))
        problems.push(`${w.metadata.name}: volume of undefined configmap ${v.configMap.name}`);
  }
  for (const s of objects.filter((o) => o.kind === 'Service')) {
    const spec = s['spec'] as { selector: Record<string, string>; ports: Array<{ targetPort: string }> };
    const targets = workloads(objects).filter(
      (w) => w.kind === 'Deployment' && matches(spec.selector, w.spec.template.metadata.labels),
    );
    if (targets.length !== 1)
      problems.push(`service ${s.metadata.name}: selects ${targets.length} deployments`);
    for (const { targetPort } of spec.ports)
      if (!targets[0]?.spec.template.spec.containers.some((c) => c.ports?.some((p) => p.name === targetPort)))
        problems.push(`service ${s.metadata.name}: target port ${targetPort} not on its pods`);
  }
  return problems;
}

/** Every (Secret, key) the manifests read: the operator creates them (README "Secrets"). */
function secretsRead(objects: K8sObject[]): Array<{ secret: string; key: string }> {
  const out = new Map<string, { secret: string; key: string }>();
  const add = (secret: string, key: string) => out.set(`${secret}/${key}`, { secret, key });
  for (const w of workloads(objects)) {
    const pod = w.spec.template.spec;
    for (const c of pod.containers) {
      for (const e of c.env)
        if (e.valueFrom?.secretKeyRef) add(e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key);
      for (const m of c.volumeMounts ?? []) {
        const secret = pod.volumes?.find((v) => v.name === m.name)?.secret?.secretName;
        if (!secret) continue;
        for (const e of c.env)
          if (e.value?.startsWith(`${m.mountPath}/`)) add(secret, e.value.slice(m.mountPath.length + 1));
      }
    }
  }
  return [...out.values()];
}

/**
 * Issue #8: deploy/k8s, validated as far as a machine without a cluster can — rendered by our own
 * small Kustomize (and by kubectl where installed, which must agree), every object against the
 * Kubernetes schemas of kubernetes-models, every reference defined, the rules the services need
 * (one log-signer and one replication, replaced not rolled), and each container's environment
 * accepted by that service's own configuration loader with generated keys where the pod mounts them.
 */
describe('deploy/k8s: one federation member on Kubernetes', () => {
  const objects = kustomize(OVERLAY);
  const config = find(objects, 'ConfigMap', 'portal-config').data!;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmp-k8s-'));
    await init(join(dir, 'generated'), () => undefined);
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders the same objects as kubectl kustomize, where kubectl is installed', () => {
    const reference = kubectlKustomize(OVERLAY);
    if (reference === undefined) return; // documented in docs/testing.md: our renderer alone then
    expect(byKindAndName(objects)).toEqual(byKindAndName(reference));
  });

  it('is valid against the Kubernetes schemas, and the check catches a malformed object', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/portal-config',
        'ConfigMap/portal-federation',
        'Deployment/gateway',
        'Deployment/log-signer',
        'Deployment/query',
        'Deployment/replication',
        'Job/migrate',
        'PodDisruptionBudget/gateway',
        'PodDisruptionBudget/query',
        'Service/gateway',
        'Service/log-signer',
        'Service/query',
        'Service/replication',
      ].sort(),
    );
    const validate = (o: K8sObject) => {
      const model = SCHEMAS[`${o.apiVersion}/${o.kind}`];
      if (!model) throw new Error(`no schema for ${o.apiVersion}/${o.kind}`);
      new (model())(o).validate();
    };
    for (const o of objects) expect(() => validate(o)).not.toThrow();
    const broken = structuredClone(find(objects, 'Deployment', 'gateway')) as Workload;
    (broken.spec.template.spec.containers[0]!.ports![0] as { containerPort: unknown }).containerPort = '8081';
    expect(() => validate(broken)).toThrow(/containerPort must be integer/);
  });

  it('puts everything in the overlay namespace, labelled, with the overlay image', () => {
    for (const o of objects) {
      expect(o.metadata.namespace).toBe('cryptomesh-alpha');
      expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/part-of': 'cryptomesh-portal' });
    }
    for (const w of workloads(objects))
      for (const c of w.spec.template.spec.containers) {
        expect(c.image).toBe('registry.example.org/cryptomesh-portal:0.1.0');
        const app = SERVICE_MAIN.exec(c.command.find((a) => SERVICE_MAIN.test(a)) ?? '')?.[1];
        expect(existsSync(join(ROOT, 'apps', app ?? '-', 'src/main.ts'))).toBe(true);
      }
  });

  it("starts each service with node, the local federation's node flags for it, then its main", () => {
    // docs/configuration.md "Node flags": the replication service's --single-threaded-gc and
    // --max-semi-space-size=8.
    const commands = workloads(objects).flatMap((w) => w.spec.template.spec.containers.map((c) => c.command));
    for (const command of commands) {
      const at = command.findIndex((a) => SERVICE_MAIN.test(a));
      const app = SERVICE_MAIN.exec(command[at] ?? '')?.[1];
      expect([app, command.slice(0, at)]).toEqual([
        app,
        ['node', ...(SERVICE_NODE_FLAGS[app as keyof typeof SERVICE_NODE_FLAGS] ?? [])],
      ]);
    }
    expect(commands.filter((c) => c.includes('--single-threaded-gc')).length).toBe(1);
    expect(commands.filter((c) => c.includes('--max-semi-space-size=8')).length).toBe(1);
  });

  it('defines every ConfigMap key, volume, port and selector it references, and the check catches one missing', () => {
    expect(danglingReferences(objects)).toEqual([]);
    const broken = structuredClone(objects);
    delete find(broken, 'ConfigMap', 'portal-config').data!['KAFKA_BROKERS'];
    (find(broken, 'Service', 'query')['spec'] as { selector: Record<string, string> }).selector = { x: 'y' };
    expect(danglingReferences(broken)).toEqual([
      'replication: KAFKA_BROKERS → configmap portal-config/KAFKA_BROKERS',
      'service query: selects 0 deployments',
      'service query: target port http not on its pods',
    ]);
  });

  it('documents every Secret and key it reads in the README', () => {
    const read = secretsRead(objects);
    expect(read.map((r) => r.secret).sort()).toEqual(
      [
        'portal-database-gateway',
        'portal-database-log-signer',
        'portal-database-owner',
        'portal-database-query',
        'portal-database-replication',
        'portal-kafka',
        'portal-log-key',
        'portal-tls',
        'portal-tls',
        'portal-witness-key',
      ].sort(),
    );
    // Issue #15: each workload reads its own database Secret only; the owner's is the migrate Job's.
    for (const w of workloads(objects)) {
      const databaseSecrets = w.spec.template.spec.containers.flatMap((c) =>
        c.env.flatMap((e) => (e.name === 'DATABASE_URL' ? [e.valueFrom?.secretKeyRef?.name] : [])),
      );
      const name = w.metadata.name;
      expect({ name, databaseSecrets }).toEqual({
        name,
        databaseSecrets: [`portal-database-${name === 'migrate' ? 'owner' : name}`],
      });
    }
    const rows = README.split('\n').filter((line) => line.startsWith('| `portal-'));
    for (const { secret, key } of read)
      expect({
        secret,
        key,
        documented: rows.some((r) => r.includes(`\`${secret}\``) && r.includes(`\`${key}\``)),
      }).toEqual({
        secret,
        key,
        documented: true,
      });
  });

  it('probes and sizes every container; rolls the stateless services and replaces the singletons', () => {
    for (const w of workloads(objects)) {
      for (const c of w.spec.template.spec.containers) {
        expect(Object.keys(c.resources.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
        expect(c.resources.limits?.['memory']).toBeDefined();
        if (w.kind !== 'Deployment') continue;
        expect(c.livenessProbe?.httpGet.path).toBe('/health/live');
        expect(c.readinessProbe?.httpGet.path).toBe('/health/ready');
        const tls = c.env.some((e) => e.name === 'TLS_CERT_FILE');
        expect(c.readinessProbe?.httpGet.scheme).toBe(tls ? 'HTTPS' : 'HTTP');
      }
    }
    const deployment = (name: string) => find(objects, 'Deployment', name) as Workload;
    // One sequencer and one Kafka consumer group member per portal: a second pod during a rolling
    // update would stand by (not ready) and stall the rollout (docs/design/log-signer.md).
    for (const name of ['log-signer', 'replication']) {
      expect(deployment(name).spec.replicas).toBe(1);
      expect(deployment(name).spec.strategy).toEqual({ type: 'Recreate' });
    }
    for (const name of ['gateway', 'query']) {
      const d = deployment(name);
      expect(d.spec.strategy?.type).toBe('RollingUpdate');
      const pdb = find(objects, 'PodDisruptionBudget', name)['spec'] as {
        minAvailable: number;
        selector: { matchLabels: Record<string, string> };
      };
      expect(matches(pdb.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
      expect(d.spec.replicas).toBeGreaterThan(pdb.minAvailable);
    }
  });

  it("ships an example federation whose own entry agrees with the overlay's keys", () => {
    const federation = JSON.parse(
      find(objects, 'ConfigMap', 'portal-federation').data!['federation.json']!,
    ) as unknown;
    const { self, peers } = parseFederationPeers(federation, {
      self: config['PORTAL_ID']!,
      source: 'federation.json',
    });
    expect(self).toMatchObject({ origin: config['LOG_ORIGIN'], queryUrl: config['QUERY_URL'] });
    expect(self?.verifierKey?.text).toBe(config['LOG_VERIFIER_KEY']);
    expect(self?.witnessKey?.text).toBe(config['WITNESS_VERIFIER_KEY']);
    expect(peers.length).toBe(2);
  });

  it('gives every container an environment its own configuration loader accepts', () => {
    const generated = join(dir, 'generated');
    const composeEnv = Object.fromEntries(
      readFileSync(join(generated, 'compose.env'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z]/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    // The operator's secrets and keys, as `compose:init` generates them for portal alpha.
    const secretFiles: Record<string, string> = {
      'portal-tls/tls.crt': join(generated, 'tls/alpha.pem'),
      'portal-tls/tls.key': join(generated, 'tls/alpha-key.pem'),
      'portal-log-key/log.key': join(generated, 'alpha/log.key'),
      'portal-witness-key/witness.key': join(generated, 'alpha/witness.key'),
      'portal-kafka/password': join(generated, 'alpha/kafka-password'),
      'portal-federation/federation.json': join(generated, 'federation.json'),
      'portal-federation/peer-ca.pem': join(generated, 'tls/ca.pem'),
    };
    const values: Record<string, string> = {
      ...config,
      LOG_VERIFIER_KEY: composeEnv['ALPHA_LOG_VERIFIER_KEY']!,
      WITNESS_VERIFIER_KEY: composeEnv['ALPHA_WITNESS_VERIFIER_KEY']!,
    };
    const envOf = (name: string): Record<string, string> => {
      const pod = (find(objects, 'Deployment', name) as Workload).spec.template.spec;
      const [c] = pod.containers;
      const out: Record<string, string> = {};
      for (const e of c!.env) {
        const ref = e.valueFrom?.configMapKeyRef;
        if (ref) out[e.name] = values[ref.key]!;
        else if (e.valueFrom?.secretKeyRef) out[e.name] = 'postgres://portal:secret@postgres:5432/portal';
        else out[e.name] = e.value!;
        for (const m of c!.volumeMounts ?? []) {
          if (!out[e.name]!.startsWith(`${m.mountPath}/`)) continue;
          const volume = pod.volumes!.find((v) => v.name === m.name)!;
          const source = volume.secret?.secretName ?? volume.configMap!.name;
          const file = secretFiles[`${source}/${out[e.name]!.slice(m.mountPath.length + 1)}`];
          expect({ variable: e.name, mapped: file !== undefined }).toEqual({
            variable: e.name,
            mapped: true,
          });
          out[e.name] = file!;
        }
      }
      return out;
    };
    expect(readTlsMaterial(loadGatewayConfig(envOf('gateway')))).toBeDefined();
    expect(readTlsMaterial(loadQueryConfig(envOf('query')))).toBeDefined();
    expect(loadLogSignerConfig(envOf('log-signer'))).toBeDefined();
    const replication = loadReplicationConfig(envOf('replication'));
    expect(replication.PORTAL_ID).toBe('alpha');
    expect(replication.kafka.sasl).toMatchObject({ mechanism: 'scram-sha-512', username: 'alpha' });
    expect(replication.federation.peers.map((p) => p.id).sort()).toEqual(['beta', 'gamma']);
    expect(replication.peerCa).toContain('BEGIN CERTIFICATE');
    // …and a loader does refuse what the manifests could get wrong: a log key that is not the configured one.
    const wrongKey = { ...envOf('log-signer'), LOG_KEY_FILE: join(generated, 'beta/log.key') };
    expect(() => loadLogSignerConfig(wrongKey)).toThrow(/LOG_VERIFIER_KEY|LOG_ORIGIN/);
  });
});
