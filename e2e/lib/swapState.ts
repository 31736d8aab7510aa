// The app's face-swap state (window.__guise.faceSwap) as the tests read it.
import type { Page } from 'playwright-core';
import type { EngineKind } from '@guise/client/engines/types';
import type { FaceSwapState } from '@guise/client/swap/faceSwap';

/** The state right now. */
export const swapState = (page: Page) => page.evaluate(() => {
  let v: unknown;
  window.__guise.faceSwap.subscribe((s) => { v = s; })();
  return v;
}) as Promise<FaceSwapState>;

/**
 * Waits until `engine` is swapping: the identity (`selected`, or any) is
 * prepared, a face is found and the engine reports its time. On a timeout the
 * state at that moment is in the error.
 */
export async function waitForSwapping(page: Page, engine: EngineKind, selected?: string, timeout = 120_000): Promise<void> {
  await page.waitForFunction(({ engine, selected }) => {
    let ok = false;
    window.__guise.faceSwap.subscribe((s) => {
      ok = s.engine === engine && (selected === undefined ? s.selected !== null : s.selected === selected)
        && !s.preparing && !!s.stats?.faceFound && s.stats.engineMs > 0;
    })();
    return ok;
  }, { engine, selected }, { timeout }).catch(async (err) => {
    const { idnModel: _, ...state } = await swapState(page); // the manifest is long and says nothing here
    throw new Error(`${engine} never started swapping: ${JSON.stringify(state)}`, { cause: err });
  });
}
