// The face package for a page that Node drives through page.evaluate (the
// offline tools' headless landmarker, the tests' face judge): evaluate() ships
// a function's source and cannot import, so such a page loads this module,
// bundled by pageBundle.ts, and calls the same code the app runs.
export { createFaceLandmarker, toGeometry } from './landmarker.ts';
export { alignedPixels, drawAligned } from './crop.ts';
