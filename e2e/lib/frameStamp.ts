// Frame numbers burned into the fake camera's picture, so that a frame can be
// recognised wherever it shows up: on the sender's camera track and in the
// receiver's video element. A row of 16×16 blocks in the bottom-left corner,
// far from the face: a white and a black reference block, the frame index in
// binary (MSB first, white = 1) and an even-parity block. Blocks survive
// scaling and the codec; each is read at its centre.

const BITS = 10, BLOCK = 16;
export const STAMP = {
  /** Where the row sits in a 640×480 frame (scaled with the frame when read back). */
  x: 0, y: 464, block: BLOCK, bits: BITS, frameWidth: 640, frameHeight: 480,
  /** Two reference blocks, the bits, the parity block. */
  blocks: BITS + 3,
  width: (BITS + 3) * BLOCK,
} as const;

const WHITE = 235, BLACK = 16; // BT.601 studio range, as the y4m is

/** Writes `index` into one 4:2:0 frame's planes (in place); the blocks are neutral grey in chroma. */
export function stampFrame(y: Uint8Array, u: Uint8Array, v: Uint8Array, width: number, index: number): void {
  const bits = Array.from({ length: STAMP.bits }, (_, i) => (index >> (STAMP.bits - 1 - i)) & 1);
  const parity = bits.reduce((a, b) => a ^ b, 0);
  const values = [WHITE, BLACK, ...bits.map((b) => (b ? WHITE : BLACK)), parity ? WHITE : BLACK];
  for (const [i, value] of values.entries()) {
    const x0 = STAMP.x + i * STAMP.block;
    for (let row = STAMP.y; row < STAMP.y + STAMP.block; row++) y.fill(value, row * width + x0, row * width + x0 + STAMP.block);
    const cw = width / 2;
    for (let row = STAMP.y / 2; row < (STAMP.y + STAMP.block) / 2; row++) {
      u.fill(128, row * cw + x0 / 2, row * cw + (x0 + STAMP.block) / 2);
      v.fill(128, row * cw + x0 / 2, row * cw + (x0 + STAMP.block) / 2);
    }
  }
}

/**
 * Reads the index back from RGBA pixels of the stamp row, drawn at exactly
 * STAMP.width × STAMP.block; -1 where it can't be read (no stamp, a blend of
 * two frames, a parity error). Self-contained: pages get it as source text.
 */
export function readStamp(rgba: ArrayLike<number>, width: number, blocks: number, block: number): number {
  const luma = (i: number) => {
    // Mean of the block's centre 4×4: clear of the codec's ringing at its edges.
    let s = 0;
    for (let dy = -2; dy < 2; dy++) {
      for (let dx = -2; dx < 2; dx++) {
        const p = ((block / 2 + dy) * width + i * block + block / 2 + dx) * 4;
        s += 0.299 * rgba[p]! + 0.587 * rgba[p + 1]! + 0.114 * rgba[p + 2]!;
      }
    }
    return s / 16;
  };
  const white = luma(0), black = luma(1);
  if (white - black < 100) return -1;
  const mid = (white + black) / 2;
  let index = 0, parity = 0;
  for (let i = 2; i < blocks - 1; i++) {
    const l = luma(i);
    if (Math.abs(l - mid) < (white - black) / 4) return -1; // neither: not a clean frame
    const bit = l > mid ? 1 : 0;
    index = index * 2 + bit;
    parity ^= bit;
  }
  return (luma(blocks - 1) > mid ? 1 : 0) === parity ? index : -1;
}

/**
 * Page-side source: defines globalThis.__readStamp(source, sourceWidth,
 * sourceHeight) that draws the stamp row of a video element or VideoFrame and
 * reads it. Also tsx's `__name` helper, which functions compiled here carry
 * into pages.
 */
export const stampReaderScript = `
globalThis.__name ??= (f) => f;
{
  const STAMP = ${JSON.stringify(STAMP)};
  const readStamp = ${readStamp.toString()};
  const canvas = new OffscreenCanvas(STAMP.width, STAMP.block);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  globalThis.__readStamp = (source, w, h) => {
    const sx = w / STAMP.frameWidth, sy = h / STAMP.frameHeight;
    ctx.drawImage(source, STAMP.x * sx, STAMP.y * sy, STAMP.width * sx, STAMP.block * sy, 0, 0, STAMP.width, STAMP.block);
    return readStamp(ctx.getImageData(0, 0, STAMP.width, STAMP.block).data, STAMP.width, STAMP.blocks, STAMP.block);
  };
}
`;
