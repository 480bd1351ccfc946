import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gateway, HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createMetrics } from '../../src/observability/metrics.js';

const DIR = 'deploy/kubernetes';

/** A parsed manifest, checked by the schemas and the assertions below. */
type Json = Record<string, any>;
interface Document {
  file: string;
  doc: Json;
}

/**
 * The documents of a manifest file, read as Kubernetes reads them: its YAML library follows YAML 1.1, where `yes`,
 * `on` or `0x1F` are not strings. Read under YAML 1.2 as well, every value must come out the same, so no value of
 * ours depends on which YAML a tool speaks.
 */
function parseManifestFile(file: string, text: string): Json[] {
  const read = (version: '1.1' | '1.2'): Json[] =>
    parseAllDocuments(text, { version }).map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
      return document.toJS() as Json;
    });
  const asKubernetesReadsIt = read('1.1');
  expect(read('1.2'), `${file} reads the same under YAML 1.1 and 1.2`).toEqual(asKubernetesReadsIt);
  return asKubernetesReadsIt;
}

const files = readdirSync(DIR).filter((name) => name.endsWith('.yaml')).sort();
const documents: Document[] = files.flatMap((file) => parseManifestFile(file, readFileSync(join(DIR, file), 'utf8')).map((doc) => ({ file, doc })));
const objects = documents.filter(({ doc }) => doc.kind !== 'Kustomization');

type Model = new (data: never) => { validate(): void };
const MODELS: Record<string, Model> = {
  'v1/ConfigMap': ConfigMap as unknown as Model,
  'v1/Secret': Secret as unknown as Model,
  'v1/Service': Service as unknown as Model,
  'apps/v1/StatefulSet': StatefulSet as unknown as Model,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as unknown as Model,
  'gateway.networking.k8s.io/v1/Gateway': Gateway as unknown as Model,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute as unknown as Model,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject as unknown as Model,
};

function validate(doc: Json): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (Model === undefined) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}: add its kubernetes-models class to MODELS`);
  new Model(doc as never).validate();
}

function all(kind: string): Json[] {
  return objects.filter(({ doc }) => doc.kind === kind).map(({ doc }) => doc);
}

function one(kind: string, name?: string): Json {
  const found = all(kind).filter((doc) => name === undefined || doc.metadata.name === name);
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

const statefulSet = one('StatefulSet');
const podTemplate = statefulSet.spec.template;
const podLabels: Record<string, string> = podTemplate.metadata.labels;
const container = podTemplate.spec.containers[0];
const scaledObject = one('ScaledObject');
const configMap = one('ConfigMap');
const maxReplicas: number = scaledObject.spec.maxReplicaCount;
const podNames = Array.from({ length: maxReplicas }, (_, ordinal) => `${statefulSet.metadata.name}-${ordinal}`);

describe('deploy/kubernetes manifests', () => {
  it('parse, and every object validates against its Kubernetes (or Gateway API, KEDA) schema', () => {
    expect(objects.length).toBeGreaterThanOrEqual(10);
    for (const { file, doc } of objects) {
      expect(() => validate(doc), `${file}: ${doc.kind} ${doc.metadata?.name}`).not.toThrow();
    }
  });

  it('are checked for real: a schema violation is rejected', () => {
    const broken = structuredClone(statefulSet);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    expect(() => validate(broken)).toThrow(/containerPort/);
    const brokenRoute = structuredClone(one('HTTPRoute', statefulSet.metadata.name));
    brokenRoute.spec.rules[0].matches[0].path.type = 'Glob';
    expect(() => validate(brokenRoute)).toThrow();
  });

  it('list every manifest but the example Secret in the kustomization, with unique names per kind', () => {
    const kustomization = documents.find(({ doc }) => doc.kind === 'Kustomization')!.doc;
    const manifestFiles = files.filter((file) => file !== 'kustomization.yaml' && file !== 'secret.example.yaml');
    expect([...kustomization.resources].sort()).toEqual(manifestFiles);
    const keys = objects.map(({ doc }) => `${doc.kind}/${doc.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('run the StatefulSet with readiness on /readyz, a preStop pause, settings from the ConfigMap and Secret, INSTANCE_ID from the pod name', () => {
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.lifecycle.preStop.exec.command).toEqual(['sleep', expect.stringMatching(/^\d+$/)]);
    expect(container.env).toContainEqual({ name: 'INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    const secret = one('Secret');
    expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }, { secretRef: { name: secret.metadata.name } }]);
    for (const key of ['GEMINI_API_KEY', 'TWILIO_AUTH_TOKEN', 'REDIS_URL', 'DATABASE_URL', 'METRICS_API_KEY']) expect(Object.keys(secret.stringData)).toContain(key);
    expect(selects(statefulSet.spec.selector.matchLabels, podLabels)).toBe(true);
    const governing = one('Service', statefulSet.spec.serviceName);
    expect(governing.spec.clusterIP).toBe('None');
    expect(container.ports.find((port: Json) => port.name === 'http').containerPort).toBe(Number(configMap.data.PORT));
  });

  it('give a pod time to finish its longest call: terminationGracePeriodSeconds >= preStop pause + max call duration (and drain timeout)', () => {
    const grace: number = podTemplate.spec.terminationGracePeriodSeconds;
    const preStopSeconds = Number(container.lifecycle.preStop.exec.command[1]);
    const maxCallSeconds = Number(configMap.data.MAX_CALL_DURATION_MS) / 1000;
    const drainSeconds = Number(configMap.data.DRAIN_TIMEOUT_MS) / 1000;
    expect(maxCallSeconds).toBeGreaterThan(0);
    expect(drainSeconds).toBeGreaterThanOrEqual(maxCallSeconds);
    expect(grace).toBeGreaterThanOrEqual(preStopSeconds + Math.max(maxCallSeconds, drainSeconds));
  });

  it('select the StatefulSet pods with every Service, one Service per pod up to maxReplicaCount, and existing named ports', () => {
    for (const service of all('Service')) {
      const { 'statefulset.kubernetes.io/pod-name': podName, ...rest } = service.spec.selector as Record<string, string>;
      expect(selects(rest, podLabels), service.metadata.name).toBe(true);
      if (podName !== undefined) expect(podNames).toContain(podName);
      for (const port of service.spec.ports) {
        if (typeof port.targetPort === 'string') expect(container.ports.map((p: Json) => p.name)).toContain(port.targetPort);
      }
    }
    for (const podName of podNames) {
      expect(one('Service', podName).spec.selector).toEqual({ ...podLabels, 'statefulset.kubernetes.io/pod-name': podName });
    }
    const perPod = all('Service').filter((service) => service.spec.selector['statefulset.kubernetes.io/pod-name'] !== undefined);
    expect(perPod).toHaveLength(maxReplicas);
    expect(selects(one('PodDisruptionBudget').spec.selector.matchLabels, podLabels)).toBe(true);
  });

  it('route /media/<pod> and /phone/events/<pod> to that pod’s Service and everything else to the shared Service, through an existing Gateway listener', () => {
    const gateways = all('Gateway');
    const services = new Map(all('Service').map((service) => [service.metadata.name as string, service]));
    const exact = new Map<string, string>();
    const prefixes = new Map<string, string>();
    let fallback: string | undefined;
    for (const route of all('HTTPRoute')) {
      for (const parent of route.spec.parentRefs) {
        const gateway = gateways.find((candidate) => candidate.metadata.name === parent.name);
        expect(gateway, `${route.metadata.name}: Gateway ${parent.name}`).toBeDefined();
        const listener = gateway!.spec.listeners.find((candidate: Json) => candidate.name === parent.sectionName);
        expect(listener, `${route.metadata.name}: listener ${parent.sectionName}`).toBeDefined();
        for (const host of route.spec.hostnames) expect(host).toBe(listener.hostname);
      }
      for (const rule of route.spec.rules) {
        for (const ref of rule.backendRefs) {
          const service = services.get(ref.name);
          expect(service, `${route.metadata.name}: Service ${ref.name}`).toBeDefined();
          expect(service!.spec.ports.map((port: Json) => port.port)).toContain(ref.port);
        }
        for (const match of rule.matches) {
          if (match.path.type === 'Exact') exact.set(match.path.value, rule.backendRefs[0].name);
          if (match.path.type === 'PathPrefix' && match.path.value === '/') fallback = rule.backendRefs[0].name;
          else if (match.path.type === 'PathPrefix') prefixes.set(match.path.value, rule.backendRefs[0].name);
        }
      }
    }
    for (const podName of podNames) expect(exact.get(`/media/${podName}`)).toBe(podName);
    // A browser phone call's events live on the pod that issued its session (src/browser-phone/browser-phone.ts).
    for (const podName of podNames) expect(prefixes.get(`/phone/events/${podName}`)).toBe(podName);
    expect(fallback).toBe(one('Service', statefulSet.metadata.name).metadata.name);
    expect(services.get(fallback!)!.spec.selector).toEqual(podLabels);
  });

  it('scale the StatefulSet on active calls per pod, a metric the service exports, below the per-pod call limit', async () => {
    expect(scaledObject.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: statefulSet.metadata.name });
    const [trigger] = scaledObject.spec.triggers;
    expect(trigger.type).toBe('prometheus');
    expect(trigger.metricType).toBe('AverageValue');
    const metricName = /^sum\((\w+)[{(]/.exec(trigger.metadata.query)?.[1];
    expect(metricName).toBe('phone_agent_active_calls');
    expect(await createMetrics({ processMetrics: false }).render()).toContain(`# TYPE ${metricName} gauge`);
    expect(Number(trigger.metadata.threshold)).toBeLessThan(Number(configMap.data.MAX_CONCURRENT_CALLS));
    expect(scaledObject.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
    expect(one('PodDisruptionBudget').spec.maxUnavailable).toBeLessThan(scaledObject.spec.minReplicaCount);
  });
});
