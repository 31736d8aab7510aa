// Which peers have ever declared their video synthetic in this call. A swap
// switched off mid-call still leaves its mark ("was synthetic"), so turning it
// off before someone looks does not hide that the earlier video was made up.
import type { ProducerAppData } from '@guise/shared';

export class DisclosureHistory {
  private readonly everSynthetic = new Set<string>();

  /** Records a disclosure seen for `peerId`'s producer (join answer, newProducer, consume answer, producerUpdated). */
  note(peerId: string, appData: ProducerAppData): void {
    if (appData.source === 'camera' && appData.synthetic) this.everSynthetic.add(peerId);
  }

  wasSynthetic(peerId: string): boolean {
    return this.everSynthetic.has(peerId);
  }

  /** A new call starts with a clean slate. */
  clear(): void {
    this.everSynthetic.clear();
  }
}
