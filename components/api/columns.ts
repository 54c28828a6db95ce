/**
 * Printing columns registered once per kind, as pkg/printers/internalversion declares them: the
 * apiserver's Table (`kubectl get` asks for `as=Table`) serves them, and kubectl prints the same
 * columns, upper-cased, priority-1 ones only with `-o wide`. A new resource adds its columns here.
 * (Kinds printed before this existed keep their own printers in kube-apiserver/table.ts and
 * kubectl/printers.ts, where the two still differ in small ways.)
 */
import { age } from './printing.js';
import type { PodDisruptionBudget } from './policy.js';
import type { KubeObject } from './types.js';
import { availableCell, type APIService } from './apiregistration.js';

export type Cell = string | number;

export interface PrintColumn {
  /** As the Table names it (`Min Available`); kubectl prints it upper-cased. */
  readonly name: string;
  readonly type: 'string' | 'integer' | 'date';
  readonly format?: 'name';
  /** 1: only with `-o wide`. */
  readonly priority?: 1;
  readonly description: string;
}

export interface Printer {
  readonly columns: readonly PrintColumn[];
  cells(o: KubeObject, now: Date): Cell[];
}

export const NAME_COLUMN: PrintColumn = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names' };
export const AGE_COLUMN: PrintColumn = { name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' };

const orNA = (v: number | string | undefined): string => (v === undefined ? 'N/A' : String(v));

/** Printers by kind. */
export const PRINTERS: Readonly<Record<string, Printer>> = {
  // kube-aggregator's apiservice TableConvertor.
  APIService: {
    columns: [NAME_COLUMN,
      { name: 'Service', type: 'string', description: 'The reference to the service that hosts this API endpoint.' },
      { name: 'Available', type: 'string', description: 'Whether this service is available.' },
      AGE_COLUMN],
    cells: (o, now) => {
      const s = o as APIService;
      const svc = s.spec.service ? `${s.spec.service.namespace}/${s.spec.service.name}` : 'Local';
      return [s.metadata.name ?? '', svc, availableCell(s), age(s.metadata.creationTimestamp, now)];
    },
  },
  PodDisruptionBudget: {
    columns: [NAME_COLUMN,
      { name: 'Min Available', type: 'string', description: 'The minimum number of pods that must be available.' },
      { name: 'Max Unavailable', type: 'string', description: 'The maximum number of pods that may be unavailable.' },
      { name: 'Allowed Disruptions', type: 'integer', description: 'Calculated number of pods that may be disrupted at this time.' },
      AGE_COLUMN],
    cells: (o, now) => {
      const p = o as PodDisruptionBudget;
      return [p.metadata.name ?? '', orNA(p.spec.minAvailable), orNA(p.spec.maxUnavailable), p.status?.disruptionsAllowed ?? 0, age(p.metadata.creationTimestamp, now)];
    },
  },
  // printComponentStatus: the Healthy condition's status (Healthy / Unhealthy; Unknown without one), message and error.
  ComponentStatus: {
    columns: [NAME_COLUMN,
      { name: 'Status', type: 'string', description: 'Status of the component conditions' },
      { name: 'Message', type: 'string', description: 'Message of the component conditions' },
      { name: 'Error', type: 'string', description: 'Error of the component conditions' }],
    cells: (o) => {
      const healthy = (o as KubeObject & { conditions?: { type: string; status: string; message?: string; error?: string }[] }).conditions?.find((c) => c.type === 'Healthy');
      return [o.metadata.name ?? '', healthy ? (healthy.status === 'True' ? 'Healthy' : 'Unhealthy') : 'Unknown', healthy?.message ?? '', healthy?.error ?? ''];
    },
  },
};

/** The registered printer of a kind, if any. */
export const printerFor = (kind: string): Printer | undefined => PRINTERS[kind];
