/**
 * Scenarios: one story per file in scenarios/. A scenario is a list of steps, each with a lesson (what
 * a learner should see) and expectations (what must hold), so the same file is a demo and a test: the
 * runner narrates every handshake and request a step causes, and the run passes only if every
 * expectation held.
 */
import type { Pki } from '../pki/store.js';
import type { Cluster } from './cluster.js';
import { connectionTable, narrateEvents } from './narrate.js';
import { Trace, type TraceEvent } from '../components/client/trace.js';
import type { Wire } from '../components/client/wire.js';
import { describeConversation, WireReader } from './wire/narrate-wire.js';
import { joinConnections, TraceRecorder, type Connection } from './trace.js';
import { lookup, translator, type Lang, type Translate } from './i18n/index.js';

export interface Expectation {
  readonly step: string;
  readonly what: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface StepOptions {
  /** Which connections and requests to narrate (default: all the step caused). */
  readonly show?: (client: string, server: string) => boolean;
  /**
   * Narrate from this index into `events` rather than the start of the step: 0 for a flow that began at
   * start-up; a mark taken earlier for a flow told after another that it ran alongside (the tour
   * explains the scheduler before the controller-manager, in the seed's order, though the controllers'
   * pods come first).
   */
  readonly from?: number;
  /**
   * Record this step's connections and tell each handshake message by message from the bytes (the
   * tour's refusals). `--wire` does so for every step.
   */
  readonly wire?: boolean;
}

export interface ScenarioContext {
  readonly pki: Pki;
  /** The running cluster, for scenarios that ask for one. */
  readonly cluster: Cluster;
  readonly trace: Trace;
  /** Every event so far. */
  readonly events: readonly TraceEvent[];
  /** The narration's language (`--lang`), and its messages: `ctx.t('tour.root.title')`. */
  readonly lang: Lang;
  readonly t: Translate;
  /** Runs one step: prints its title and lesson, runs it, narrates what it caused. */
  step<T>(title: string, lesson: string, run: () => Promise<T>, options?: StepOptions): Promise<T>;
  /** Records an expectation of the current step. */
  expect(what: string, ok: boolean, detail?: string): void;
  /** Prints a line of explanation (not an expectation). */
  say(text: string): void;
  /** Events recorded since `mark` (an index into `events`). */
  since(mark: number): readonly TraceEvent[];
  /** Hands back a structured result (the trust matrix): kept in RunResult.report, printed by `--format json`. */
  report(value: unknown): void;
}

export interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly summary: string;
  /** Whether the runner starts a cluster before `run` (and stops it after). */
  readonly needsCluster: boolean;
  run(ctx: ScenarioContext): Promise<void>;
}

export interface RunOptions {
  readonly pki: Pki;
  readonly startCluster: (pki: Pki, trace: Trace) => Promise<Cluster>;
  /** Where narration goes; `quiet` keeps only the summary. */
  readonly write: (line: string) => void;
  readonly quiet?: boolean;
  /** Receives every trace event (for --json). */
  readonly onEvent?: (e: TraceEvent) => void;
  /** Runs after the scenario, before the runner stops its cluster (a test inspecting what the scenario left). */
  readonly beforeStop?: (cluster: Cluster) => Promise<void>;
  /** The run's wire (components/client/wire.ts): recorded bytes and key log, the TLS version cap. */
  readonly wire?: Wire;
  /** --wire: every step tells each connection's handshake from the recorded bytes (else only steps that ask). */
  readonly wireView?: boolean;
  /** The narration's language (default English). Expectations, connections and trace events do not depend on it. */
  readonly lang?: Lang;
}

/** One step as it ran: what it taught and where its events are in `RunResult.events`. */
export interface StepRecord {
  readonly number: number;
  readonly title: string;
  readonly lesson: string;
  /** Indices into `events`: the step ran from `start` to `end` (exclusive). */
  readonly start: number;
  readonly end: number;
  /** Where its narration started (`StepOptions.from`, else `start`). */
  readonly narratedFrom: number;
  /** The lines `ctx.say` printed during (and after, until the next step) the step, and its expectations. */
  readonly said: readonly string[];
  readonly expectations: readonly Expectation[];
}

export interface RunResult {
  readonly scenario: string;
  /** The title and summary as the run told them, in its language. */
  readonly title: string;
  readonly summary: string;
  /** The narration's language: the report (report/) labels its page in it. */
  readonly lang: Lang;
  readonly ok: boolean;
  readonly expectations: readonly Expectation[];
  readonly connections: readonly Connection[];
  /** Every trace event of the run, in order (setup, steps, shutdown). */
  readonly events: readonly TraceEvent[];
  readonly steps: readonly StepRecord[];
  /** The PKI the run started with, and the cluster's at the end when a step replaced it (a CA rotation). */
  readonly pkis: readonly Pki[];
  readonly error?: string;
  /** What the scenario handed to `ctx.report`, if anything. */
  readonly report?: unknown;
}

/** Each connection the events opened, told from its recorded bytes. */
function wireLines(wire: Wire, events: readonly TraceEvent[], show: ((client: string, server: string) => boolean) | undefined, t: Translate): string[] {
  const reader = new WireReader(wire);
  const lines: string[] = [];
  for (const c of joinConnections(events)) {
    if (show && !show(c.client, c.server)) continue;
    const recorded = reader.connection(c.local);
    if (!recorded) continue;
    lines.push(...describeConversation(reader.conversation(recorded), recorded, { client: c.client, server: c.server }, t));
  }
  return lines;
}

const indent = (text: string, by = '    '): string => text.split('\n').map((l) => (l ? by + l : l)).join('\n');

/** A scenario's title in the language, from the catalogue (`scenario.<name>.title`) when it has one. */
export const scenarioTitle = (scenario: Scenario, lang: Lang): string => lookup(lang, `scenario.${scenario.name}.title`) ?? scenario.title;

export async function runScenario(scenario: Scenario, options: RunOptions): Promise<RunResult> {
  const trace = new Trace(undefined, options.wire);
  const recorder = new TraceRecorder(trace);
  const unsubscribe = options.onEvent ? trace.on(options.onEvent) : undefined;
  const expectations: Expectation[] = [];
  const w = (s: string): void => { if (!options.quiet) options.write(s); };
  const lang = options.lang ?? 'en';
  const t = translator(lang);
  let current = t('run.setup');
  let stepNo = 0;
  let cluster: Cluster | undefined;
  let error: string | undefined;
  let report: unknown;
  let hookError: Error | undefined;
  const steps: { number: number; title: string; lesson: string; start: number; end: number; narratedFrom: number; said: string[]; expectations: Expectation[] }[] = [];
  const pkis: Pki[] = [options.pki];

  const title = scenarioTitle(scenario, lang);
  const summary = lookup(lang, `scenario.${scenario.name}.summary`) ?? scenario.summary;
  w(`\n=== ${title} ===`);
  w(indent(summary, ''));
  try {
    if (scenario.needsCluster) cluster = await options.startCluster(options.pki, trace);
    const ctx: ScenarioContext = {
      pki: options.pki,
      get cluster(): Cluster {
        if (!cluster) throw new Error(`scenario ${scenario.name} did not ask for a cluster`);
        return cluster;
      },
      trace,
      events: recorder.events,
      lang,
      t,
      since: (mark) => recorder.events.slice(mark),
      report: (value) => { report = value; },
      say: (text) => { steps.at(-1)?.said.push(text); w(indent(text)); },
      expect: (what, ok, detail) => {
        const e = { step: current, what, ok, ...(detail === undefined ? {} : { detail }) };
        expectations.push(e);
        steps.at(-1)?.expectations.push(e);
        w(`    ${ok ? '✔' : '✘'} ${what}${!ok && detail ? ` — ${detail}` : ''}`);
      },
      step: async (title, lesson, run, stepOptions) => {
        current = title;
        stepNo++;
        w(`\n--- ${stepNo}. ${title}`);
        if (lesson) w(indent(lesson));
        const mark = recorder.events.length;
        const wire = options.wire;
        const recordStep = stepOptions?.wire === true && wire !== undefined && !wire.recording;
        if (recordStep) wire.recording = true;
        const record = { number: stepNo, title, lesson, start: mark, end: mark, narratedFrom: stepOptions?.from ?? mark, said: [] as string[], expectations: [] as Expectation[] };
        steps.push(record);
        try {
          return await run();
        } finally {
          // What nodes in worker processes emitted during the step, before it is narrated.
          await cluster?.settleTrace().catch(() => undefined);
          // A recorded server's write completes one event-loop turn later than a native one (Node's
          // JSStreamSocket finishes writes in setImmediate), so its request event may still be due.
          if (options.wire?.recording) await new Promise<void>((resolve) => { setImmediate(resolve); });
          record.end = recorder.events.length;
          const lines = narrateEvents(recorder.events.slice(stepOptions?.from ?? mark), recorder.events, stepOptions?.show, t);
          if (lines.length > 0) {
            w(`    ${t('run.onTheWire')}`);
            for (const l of lines) w(indent(l, '      '));
          }
          if (wire && (options.wireView || stepOptions?.wire)) {
            const told = wireLines(wire, recorder.events.slice(stepOptions?.from ?? mark), stepOptions?.show, t);
            if (told.length > 0) {
              w(`    ${t('run.handshakes')}`);
              for (const l of told) w(indent(l, '      '));
            }
          }
          if (recordStep) wire.recording = false;
        }
      },
    };
    await scenario.run(ctx);
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    expectations.push({ step: current, what: t('run.ranToEnd'), ok: false, detail: error });
    w(`    ✘ ${t('run.stepFailed', { step: current, error })}`);
  } finally {
    if (cluster && options.beforeStop) {
      try { await options.beforeStop(cluster); } catch (err) { hookError = err instanceof Error ? err : new Error(String(err)); }
    }
    if (cluster && cluster.pki !== options.pki) pkis.push(cluster.pki);
    if (cluster) await cluster.stop();
    unsubscribe?.();
    recorder.stop();
  }
  if (hookError) throw hookError;
  const connections = joinConnections(recorder.events);
  const ok = error === undefined && expectations.every((e) => e.ok);
  if (connections.length > 0) {
    w(`\n${t('run.everyConnection')}`);
    w(indent(connectionTable(connections, t), '  '));
  }
  const failed = expectations.filter((e) => !e.ok);
  options.write(`\n${t('run.verdict', { verdict: ok ? 'PASS' : 'FAIL', scenario: scenario.name, held: expectations.length - failed.length, total: expectations.length })}`);
  for (const f of failed) options.write(`  ✘ [${f.step}] ${f.what}${f.detail ? ` — ${f.detail}` : ''}`);
  return {
    scenario: scenario.name, title, summary, lang, ok, expectations, connections,
    events: [...recorder.events], steps, pkis, ...(error ? { error } : {}), ...(report === undefined ? {} : { report }) };
}
