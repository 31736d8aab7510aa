// The person's face choices and the swap's stats (window.__guise.faceChoice) as the tests read them.
import type { Page } from 'playwright-core';
import type { EngineKind } from '@guise/client/engines/types';
import type { FaceChoiceState } from '@guise/client/faces/faceChoice';

/** The state right now. */
export const swapState = (page: Page) => page.evaluate(() => {
  let v: unknown;
  window.__guise.faceChoice.subscribe((s) => { v = s; })();
  return v;
}) as Promise<FaceChoiceState>;

/**
 * Waits until `engine` is swapping: the identity (`selected`, or any) is
 * prepared, a face is found and the engine reports its time. On a timeout the
 * state at that moment is in the error.
 */
export async function waitForSwapping(page: Page, engine: EngineKind, selected?: string, timeout = 120_000): Promise<void> {
  await page.waitForFunction(({ engine, selected }) => {
    let ok = false;
    window.__guise.faceChoice.subscribe((s) => {
      ok = s.engine === engine && (selected === undefined ? s.selected !== null : s.selected === selected)
        && !s.preparing && !!s.stats?.faceFound && s.stats.engineMs > 0;
    })();
    return ok;
  }, { engine, selected }, { timeout }).catch(async (err) => {
    const { idnModel: _, ...state } = await swapState(page); // the manifest is long and says nothing here
    throw new Error(`${engine} never started swapping: ${JSON.stringify(state)}`, { cause: err });
  });
}
