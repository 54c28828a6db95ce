import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initPki, type InitResult } from '../../pki/store.js';

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix = 'pki-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * One generated cluster directory per test run, shared by the PKI tests that only read it
 * (tests that damage files copy it first).
 */
let shared: Promise<{ dir: string; result: InitResult }> | undefined;
export function sharedPkiDir(): Promise<{ dir: string; result: InitResult }> {
  shared ??= (async () => {
    const { dir } = tempDir('pki-shared-');
    return { dir, result: await initPki(dir, { nodes: ['node-1', 'node-2'] }) };
  })();
  return shared;
}

export async function removeSharedPkiDir(): Promise<void> {
  if (!shared) return;
  const { dir } = await shared;
  rmSync(dir, { recursive: true, force: true });
}

/** A private copy of the shared directory, for a test that damages files. */
export async function sharedPkiCopy(): Promise<{ dir: string; remove: () => void }> {
  const t = tempDir();
  cpSync((await sharedPkiDir()).dir, t.dir, { recursive: true });
  return t;
}
