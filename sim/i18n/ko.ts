/** 한국어 카탈로그: en.ts의 모든 키를, 같은 {{자리표시자}}로. */
import { koNarration } from './ko-narration.js';
import { koTour } from './ko-tour.js';
import { koScenarios } from './ko-scenarios.js';
import { koScenariosLifecycle } from './ko-scenarios-lifecycle.js';
import { koJoinLate } from './ko-join-late.js';
import { koScenariosExtensions } from './ko-scenarios-extensions.js';
import { koScenariosMore } from './ko-scenarios-more.js';
import { koWire } from './ko-wire.js';
import { koReport } from './ko-report.js';

export const ko = { ...koNarration, ...koTour, ...koScenarios, ...koScenariosLifecycle, ...koJoinLate, ...koScenariosExtensions, ...koScenariosMore, ...koWire, ...koReport };
