// The engine every balancer gets when its configuration names none, for the whole test process.
//
// scripts/run-tests.mjs loads this module into every test process with `--import`; with
// `--engine undici` it sets EXPRESS_PROXY_BALANCER_TEST_ENGINE, and the same suites then run on the
// undici engine. A test that pins one engine names it in its configuration.
import { ENGINES, setFallbackEngine, type EngineName } from '../../lib/config/engine.js';

/** The engine the suites run under (the default engine unless the runner says otherwise). */
export const testEngine: EngineName = pick(process.env.EXPRESS_PROXY_BALANCER_TEST_ENGINE);

function pick(value: string | undefined): EngineName {
  if (value === undefined || value === '') return 'http-proxy';
  if (!(ENGINES as readonly string[]).includes(value)) {
    throw new Error(`EXPRESS_PROXY_BALANCER_TEST_ENGINE=${value} is not one of ${ENGINES.join(', ')}`);
  }
  return value as EngineName;
}

setFallbackEngine(testEngine);
