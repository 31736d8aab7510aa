// The disclosure mark: a small black plate in the frame's top-right corner
// with the word "synthetic" and a row of ten black and white cells, drawn
// into every frame sent while a swapped identity is chosen (the camera
// worker does it), so the disclosure travels with the pixels (OBS,
// WHEP players, recordings) where no badge can follow. The cells are what a
// machine reads back: a fixed pattern at a fixed place, sized by the frame
// height, so it survives the codec and scaling. Pure: the layout, a painter
// for luma buffers (tests) and the detector.
//
// Top-right, because the bench's frame stamps sit in the bottom-left corner.

/** White (1) and black (0) cells, left to right. Not symmetric, not periodic. */
export const MARK_CODE = [1, 0, 1, 1, 0, 1, 0, 0, 1, 0] as const;

export interface Rect { x: number; y: number; w: number; h: number }

export interface MarkLayout {
  /** One cell's width; the code row is 3 cells tall. */
  cell: number;
  /** The black plate behind the code; the text goes to the left of `code`, on the same plate. */
  plate: Rect;
  code: Rect;
  cells: (Rect & { white: boolean })[];
  /** Where the word's right edge and baseline go, and its font size in pixels. */
  text: { right: number; baseline: number; size: number };
}

/**
 * Where the mark goes in a `width`×`height` frame. Fractional pixels: the same
 * layout holds at any scale of the same frame. `textWidth` (the word's width
 * at `text.size`, measured by the drawer) widens the plate leftwards.
 */
export function markLayout(width: number, height: number, textWidth = 0): MarkLayout {
  const cell = height / 80; // 6 px at 480: scale-free, so a downscaled frame reads the same
  const margin = cell * 1.5;
  const codeW = cell * MARK_CODE.length, codeH = cell * 3;
  const code: Rect = { x: width - margin - cell - codeW, y: margin + cell, w: codeW, h: codeH };
  const size = cell * 2.6;
  const plateLeft = code.x - cell - (textWidth > 0 ? textWidth + cell : 0);
  return {
    cell,
    plate: { x: plateLeft, y: margin, w: width - margin - plateLeft, h: codeH + 2 * cell },
    code,
    cells: MARK_CODE.map((bit, i) => ({ x: code.x + i * cell, y: code.y, w: cell, h: codeH, white: bit === 1 })),
    text: { right: code.x - cell, baseline: code.y + codeH - cell * 0.35, size },
  };
}

export const MARK_WORD = 'synthetic';

/** Paints the plate and the cells (not the word) into a luma buffer, in place: for tests. */
export function paintMark(luma: Uint8Array, width: number, height: number): void {
  const layout = markLayout(width, height);
  fill(luma, width, layout.plate, 16);
  for (const c of layout.cells) fill(luma, width, c, c.white ? 235 : 16);
}

function fill(luma: Uint8Array, width: number, r: Rect, value: number): void {
  for (let y = Math.round(r.y); y < Math.round(r.y + r.h); y++) {
    for (let x = Math.round(r.x); x < Math.round(r.x + r.w); x++) luma[y * width + x] = value;
  }
}

export interface MarkReading {
  present: boolean;
  /** Mean white cell luma minus mean black cell luma (0–255). */
  contrast: number;
}

/** The least white-minus-black difference that counts: the codec softens edges, not 8-pixel cells. */
const MIN_CONTRAST = 80;

/**
 * Whether a frame's luma (one byte a pixel, row-major) carries the mark.
 * Each cell is read as the mean of its central half, clear of the codec's
 * ringing at its edges; every cell must fall on its own side of the midpoint
 * by a quarter of the contrast, and the plate around the code must be dark.
 */
export function detectMark(luma: ArrayLike<number>, width: number, height: number): MarkReading {
  const layout = markLayout(width, height);
  const mean = (r: Rect) => {
    const x0 = Math.round(r.x + r.w / 4), x1 = Math.max(x0 + 1, Math.round(r.x + (3 * r.w) / 4));
    const y0 = Math.round(r.y + r.h / 4), y1 = Math.max(y0 + 1, Math.round(r.y + (3 * r.h) / 4));
    let s = 0, n = 0;
    for (let y = Math.max(0, y0); y < Math.min(height, y1); y++) {
      for (let x = Math.max(0, x0); x < Math.min(width, x1); x++) { s += luma[y * width + x]!; n++; }
    }
    return n ? s / n : 0;
  };
  const values = layout.cells.map((c) => ({ white: c.white, v: mean(c) }));
  const whites = values.filter((c) => c.white).map((c) => c.v);
  const blacks = values.filter((c) => !c.white).map((c) => c.v);
  const avg = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const contrast = avg(whites) - avg(blacks);
  if (!(contrast >= MIN_CONTRAST)) return { present: false, contrast };
  const mid = (avg(whites) + avg(blacks)) / 2, slack = contrast / 4;
  const cellsRight = values.every((c) => (c.white ? c.v > mid + slack : c.v < mid - slack));
  // The plate's strip below the code is black too: a white cell is a cell, not a white area.
  const { code, cell } = layout;
  const below = mean({ x: code.x, y: code.y + code.h, w: code.w, h: cell });
  return { present: cellsRight && below < mid - slack, contrast };
}
