// Draws the disclosure mark (@guise/face/disclosureMark) onto a swapped frame
// in the camera worker: the engine's canvas is copied onto a 2D canvas of the
// same size and the mark drawn over it, so every engine gets the same mark
// and no engine needs to know of it.
import { MARK_WORD, markLayout } from '@guise/face/disclosureMark';

export class MarkPainter {
  private canvas: OffscreenCanvas | undefined;
  private ctx: OffscreenCanvasRenderingContext2D | undefined;
  /** The word's measured width, for the font size it was measured at. */
  private text = { size: 0, width: 0 };

  /** `source` (`width`×`height`) with the mark over it, on this painter's canvas (valid until the next call). */
  paint(source: OffscreenCanvas | VideoFrame, width: number, height: number): OffscreenCanvas {
    if (!this.canvas || this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas = new OffscreenCanvas(width, height);
      this.ctx = this.canvas.getContext('2d', { alpha: false })!;
    }
    const ctx = this.ctx!;
    ctx.drawImage(source, 0, 0);
    this.drawMark(ctx, width, height);
    return this.canvas;
  }

  /** Draws the mark straight into a 2D context (the canvas fallback path draws there itself). */
  drawMark(ctx: OffscreenCanvasRenderingContext2D, width: number, height: number): void {
    const size = markLayout(width, height).text.size;
    ctx.font = `600 ${size}px sans-serif`;
    if (this.text.size !== size) this.text = { size, width: ctx.measureText(MARK_WORD).width };
    const layout = markLayout(width, height, this.text.width);
    ctx.fillStyle = '#000';
    ctx.fillRect(layout.plate.x, layout.plate.y, layout.plate.w, layout.plate.h);
    ctx.fillStyle = '#fff';
    for (const c of layout.cells) if (c.white) ctx.fillRect(c.x, c.y, c.w, c.h);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'alphabetic';
    ctx.fillText(MARK_WORD, layout.text.right, layout.text.baseline);
  }
}
