/** Mocha root hooks: shared fixtures made once per run are removed once, at the very end. */
import { removeSharedPkiDir } from './pki/helpers.js';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await removeSharedPkiDir();
  },
};
