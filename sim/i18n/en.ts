/** English, the source catalogue: every key the narration uses, with `{{placeholder}}`s for the facts. */
import { enNarration } from './en-narration.js';
import { enTour } from './en-tour.js';
import { enScenarios } from './en-scenarios.js';
import { enScenariosLifecycle } from './en-scenarios-lifecycle.js';
import { enJoinLate } from './en-join-late.js';
import { enScenariosExtensions } from './en-scenarios-extensions.js';
import { enScenariosMore } from './en-scenarios-more.js';
import { enWire } from './en-wire.js';
import { enReport } from './en-report.js';

export const en = { ...enNarration, ...enTour, ...enScenarios, ...enScenariosLifecycle, ...enJoinLate, ...enScenariosExtensions, ...enScenariosMore, ...enWire, ...enReport } as const;
