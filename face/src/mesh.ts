// Pure topology of MediaPipe's 478-point face mesh, derived from the
// connection lists that tasks-vision ships (so it can never drift from the
// model's own indexing). Everything is computed once and cached.
import { FaceLandmarker } from '@mediapipe/tasks-vision';

type Connection = { start: number; end: number };

/** Landmarks per face (468 mesh vertices + 10 iris points). */
export const LANDMARK_COUNT = 478;

const cache = new Map<string, unknown>();
function once<T>(key: string, make: () => T): T {
  if (!cache.has(key)) cache.set(key, make());
  return cache.get(key) as T;
}

/** 852 triangles (2556 indices): each consecutive triple of tessellation edges is a→b→c→a. */
export function triangles(): Uint16Array {
  return once('tri', () => {
    const t = FaceLandmarker.FACE_LANDMARKS_TESSELATION;
    const out = new Uint16Array(t.length);
    for (let i = 0; i < t.length; i++) out[i] = t[i]!.start;
    return out;
  });
}

/**
 * Chains an unordered, undirected edge list that forms one or more closed
 * loops (tasks-vision lists each contour as two chains running from the same
 * corner) into ordered loops, without repeating the first vertex.
 */
export function loops(edges: readonly Connection[]): number[][] {
  const adj = new Map<number, number[]>();
  const link = (a: number, b: number) => (adj.get(a) ?? adj.set(a, []).get(a)!).push(b);
  for (const { start, end } of edges) { link(start, end); link(end, start); }
  const seen = new Set<number>();
  const out: number[][] = [];
  for (const first of adj.keys()) {
    if (seen.has(first)) continue;
    const loop = [first];
    seen.add(first);
    for (let cur = first; ;) {
      const next = adj.get(cur)!.find((n) => !seen.has(n));
      if (next === undefined) break;
      loop.push(next);
      seen.add(next);
      cur = next;
    }
    out.push(loop);
  }
  return out;
}

function onlyLoop(edges: readonly Connection[]): number[] {
  const [loop, ...rest] = loops(edges);
  if (!loop || rest.length) throw new Error(`expected one closed contour, got ${rest.length + (loop ? 1 : 0)}`);
  return loop;
}

/** The face outline, which is also the tessellation's outer boundary. */
export const faceOval = () => once('oval', () => onlyLoop(FaceLandmarker.FACE_LANDMARKS_FACE_OVAL));
/** The subject's left eye opening (image right when facing the camera). */
export const leftEye = () => once('leye', () => onlyLoop(FaceLandmarker.FACE_LANDMARKS_LEFT_EYE));
export const rightEye = () => once('reye', () => onlyLoop(FaceLandmarker.FACE_LANDMARKS_RIGHT_EYE));

/** Edges used by exactly one triangle: the oval plus the eye and mouth holes. */
function boundaryEdges(): Set<string> {
  return once('bnd', () => {
    const count = new Map<string, number>();
    const t = triangles();
    for (let i = 0; i < t.length; i += 3) {
      for (let k = 0; k < 3; k++) {
        const key = edgeKey(t[i + k]!, t[i + ((k + 1) % 3)]!);
        count.set(key, (count.get(key) ?? 0) + 1);
      }
    }
    return new Set([...count].filter(([, n]) => n === 1).map(([key]) => key));
  });
}
const edgeKey = (a: number, b: number) => (a < b ? `${a},${b}` : `${b},${a}`);

/**
 * The mouth opening. FACE_LANDMARKS_LIPS holds an outer and an inner loop;
 * the inner one is the loop whose edges all border the tessellation's hole.
 */
export const innerLips = () =>
  once('lips', () => {
    const bnd = boundaryEdges();
    const inner = loops(FaceLandmarker.FACE_LANDMARKS_LIPS).filter((l) =>
      l.every((v, i) => bnd.has(edgeKey(v, l[(i + 1) % l.length]!))),
    );
    if (inner.length !== 1) throw new Error('could not find the inner lip contour');
    return inner[0]!;
  });

/**
 * Triangulates a closed loop as a zig-zag strip between its two sides, which
 * suits thin convex-ish openings (eyes, mouth) better than a fan.
 */
export function fillLoop(loop: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = loop.length - 1;
  while (j - i >= 2) {
    out.push(loop[i]!, loop[i + 1]!, loop[j]!);
    i++;
    if (j - i < 2) break;
    out.push(loop[i]!, loop[j - 1]!, loop[j]!);
    j--;
  }
  return out;
}

/**
 * Per-vertex weight from graph distance (in tessellation edges) to `seeds`:
 * 0 on the seeds, rising linearly to 1 at `rings` edges away. Vertices the
 * tessellation doesn't reach (the iris points) get 1.
 */
export function ringWeights(seeds: readonly number[], rings: number): Float32Array {
  const t = triangles();
  const adj: number[][] = Array.from({ length: LANDMARK_COUNT }, () => []);
  for (let i = 0; i < t.length; i += 3) {
    for (let k = 0; k < 3; k++) adj[t[i + k]!]!.push(t[i + ((k + 1) % 3)]!, t[i + ((k + 2) % 3)]!);
  }
  const dist = new Array<number>(LANDMARK_COUNT).fill(Infinity);
  let frontier = [...seeds];
  for (const s of seeds) dist[s] = 0;
  for (let d = 1; frontier.length && d <= rings; d++) {
    const next: number[] = [];
    for (const v of frontier) for (const n of adj[v]!) if (dist[n] === Infinity) { dist[n] = d; next.push(n); }
    frontier = next;
  }
  return Float32Array.from(dist, (d) => Math.min(1, d / rings));
}

/** Oval feather: 0 on the face outline → 1 at three rings deep. */
export const featherWeights = () => once('feather', () => ringWeights(faceOval(), 3));

const vertices = (edges: readonly Connection[]) => [...new Set(edges.flatMap((e) => [e.start, e.end]))];

/** The vertices of the features whose colours are not skin: eye openings, brows, lips. */
export const faceFeatures = () =>
  once('features', () => ({
    eyes: [...leftEye(), ...rightEye()],
    brows: [...vertices(FaceLandmarker.FACE_LANDMARKS_LEFT_EYEBROW), ...vertices(FaceLandmarker.FACE_LANDMARKS_RIGHT_EYEBROW)],
    lips: vertices(FaceLandmarker.FACE_LANDMARKS_LIPS),
  }));

/**
 * Where colour statistics are taken: bare skin, i.e. away from the oval
 * (hair, background), the eyes and brows (and glasses rims around them) and
 * the lips, whose colours say nothing about lighting and skew std.
 */
export const skinWeights = () =>
  once('skin', () => {
    const F = FaceLandmarker;
    const parts = [
      ringWeights(faceOval(), 3),
      ringWeights([...leftEye(), ...rightEye()], 3),
      ringWeights([...vertices(F.FACE_LANDMARKS_LEFT_EYEBROW), ...vertices(F.FACE_LANDMARKS_RIGHT_EYEBROW)], 2),
      ringWeights(vertices(F.FACE_LANDMARKS_LIPS), 2),
    ];
    return Float32Array.from(parts[0]!, (_, i) => Math.min(...parts.map((p) => p[i]!)));
  });
