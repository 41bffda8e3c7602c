import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

/** A Kubernetes object as the manifests write it. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  [field: string]: unknown;
}

interface ConfigMapGenerator {
  name: string;
  behavior?: 'create' | 'merge' | 'replace';
  literals?: string[];
  files?: string[];
}

interface Kustomization {
  resources?: string[];
  namespace?: string;
  labels?: Array<{ pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }>;
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
  configMapGenerator?: ConfigMapGenerator[];
  generatorOptions?: { disableNameSuffixHash?: boolean };
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume']);
const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'labels',
  'images',
  'configMapGenerator',
  'generatorOptions',
]);

function readYaml(file: string): unknown[] {
  // kubectl reads YAML 1.1 (an unquoted 0440 is octal there, decimal 440 in YAML 1.2).
  return parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1' }).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    return doc.toJS() as unknown;
  });
}

/**
 * The subset of Kustomize that deploy/k8s uses — resources, namespace, labels (metadata only),
 * images, configMapGenerator (create and merge) and disableNameSuffixHash — so that the manifests
 * can be checked where `kubectl` is not installed. Anything else in a kustomization is refused
 * rather than silently ignored; `kubectlKustomize` cross-checks the result where it is installed.
 */
export function kustomize(dir: string): K8sObject[] {
  const [k] = readYaml(join(dir, 'kustomization.yaml')) as [Kustomization];
  for (const field of Object.keys(k))
    if (!SUPPORTED.has(field)) throw new Error(`${dir}: kustomization field ${field} is not supported here`);

  let objects: K8sObject[] = [];
  for (const resource of k.resources ?? []) {
    const path = join(dir, resource);
    if (resource.endsWith('.yaml')) objects.push(...(readYaml(path) as K8sObject[]).filter(Boolean));
    else objects.push(...kustomize(path));
  }

  for (const generator of k.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const literal of generator.literals ?? []) {
      const at = literal.indexOf('=');
      data[literal.slice(0, at)] = literal.slice(at + 1);
    }
    for (const file of generator.files ?? []) data[basename(file)] = readFileSync(join(dir, file), 'utf8');
    const existing = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === generator.name);
    if (generator.behavior === 'merge' || generator.behavior === 'replace') {
      if (!existing) throw new Error(`${dir}: configMapGenerator ${generator.name} merges into nothing`);
      existing.data = generator.behavior === 'merge' ? { ...existing.data, ...data } : data;
    } else {
      if (existing) throw new Error(`${dir}: configMapGenerator ${generator.name} already exists`);
      if (!k.generatorOptions?.disableNameSuffixHash)
        throw new Error(`${dir}: name suffix hashes are not modelled; set disableNameSuffixHash`);
      objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data });
    }
  }

  for (const { pairs, includeSelectors, includeTemplates } of k.labels ?? []) {
    if (includeSelectors || includeTemplates) throw new Error(`${dir}: only metadata labels are modelled`);
    for (const o of objects) o.metadata.labels = { ...o.metadata.labels, ...pairs };
  }

  if (k.namespace !== undefined)
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;

  for (const image of k.images ?? [])
    objects = objects.map(
      (o) =>
        JSON.parse(JSON.stringify(o), (key, value: unknown) =>
          key === 'image' && value === image.name
            ? `${image.newName ?? image.name}${image.newTag ? `:${image.newTag}` : ''}`
            : value,
        ) as K8sObject,
    );
  return objects;
}

/** `kubectl kustomize dir` when kubectl is installed, else undefined. */
export function kubectlKustomize(dir: string): K8sObject[] | undefined {
  const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (run.error) return undefined;
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir}: ${run.stderr}`);
  return parseAllDocuments(run.stdout).map((d) => d.toJS() as K8sObject);
}

/** A stable key for comparing two renderings regardless of order. */
export function byKindAndName(objects: K8sObject[]): Record<string, string> {
  return Object.fromEntries(
    objects.map((o) => [`${o.kind}/${o.metadata.name}`, stringify(o, { sortMapEntries: true })]),
  );
}
