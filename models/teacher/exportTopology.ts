// Writes the app's face-mesh topology (face/src/mesh.ts) as JSON for the
// Python side (teacher, guide warp, training), so both use one triangulation.
// `pnpm exec tsx models/teacher/exportTopology.ts` rewrites it; a vitest keeps it in sync.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { faceOval, innerLips, leftEye, rightEye, triangles } from '@guise/face/mesh';

export const topologyPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'face_topology.json');

export function topology() {
  return {
    source: 'client/src/face/mesh.ts (tasks-vision FACE_LANDMARKS_TESSELATION and contours)',
    triangles: Array.from(triangles()),
    faceOval: faceOval(),
    leftEye: leftEye(),
    rightEye: rightEye(),
    innerLips: innerLips(),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  writeFileSync(topologyPath, JSON.stringify(topology()) + '\n');
  console.log(`wrote ${topologyPath}`);
}
