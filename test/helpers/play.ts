/** Plays a registered scenario on its own cluster (ephemeral ports, silent logs) and checks its expectations by pattern. */
import { expect } from 'chai';
import type { Pki } from '../../pki/store.js';
import { Cluster } from '../../sim/cluster.js';
import { silentLogger } from '../../sim/logger.js';
import { runScenario, type RunResult } from '../../sim/scenario.js';
import { SCENARIOS } from '../../scenarios/index.js';

/** The run's result and everything it printed. */
export async function play(name: string, pki: Pki): Promise<{ result: RunResult; text: string }> {
  const lines: string[] = [];
  const scenario = SCENARIOS.find((s) => s.name === name);
  expect(scenario, `scenario ${name} is registered`).to.not.equal(undefined);
  const result = await runScenario(scenario!, {
    pki, write: (l) => lines.push(l),
    startCluster: (p, trace) => new Cluster({ pki: p, trace, logger: silentLogger(), ports: 'ephemeral' }).start(),
  });
  return { result, text: lines.join('\n') };
}

/** Asserts that an expectation whose sentence matches `what` was made and held. */
export const held = (r: RunResult, what: RegExp): void => {
  const e = r.expectations.find((x) => what.test(x.what));
  expect(e, `an expectation matching ${what}`).to.not.equal(undefined);
  expect(e!.ok, e!.what).to.equal(true);
};
