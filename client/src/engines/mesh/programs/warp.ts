// Warp pass: the identity's face texture drawn on the face-mesh triangulation
// at the target's landmarks, colour-matched, with the paste-back mask in alpha.
// It draws only the face's rectangle (the viewport), so the colour transfer
// and the mask touch the face's pixels, never the whole frame.
import type { ColourTransfer } from '@guise/face/colour';
import { bindTexture, createProgram, uniforms } from '../../gl.ts';

/** Attribute locations shared by every program that draws the face mesh. */
export const ATTR = { pos: 0, uv: 1, weight: 2 } as const;

const vertex = /* glsl */ `#version 300 es
layout(location = 0) in vec3 a_pos;    // target landmark, pixels (z: MediaPipe depth, same scale as x)
layout(location = 1) in vec2 a_uv;     // same landmark in the identity texture, 0..1
layout(location = 2) in vec4 a_weight; // feather weights: oval, eyes, mouth (w: skin, stats only)
uniform vec4 u_view;                   // the landmarks' pixel rectangle the viewport shows: x, y, w, h
uniform float u_depth;                 // 1 / max(width, height): keeps z inside the clip volume
out vec2 v_uv;
out vec3 v_weight;
void main() {
  vec2 c = (a_pos.xy - u_view.xy) / u_view.zw * 2.0 - 1.0;
  // y flipped so image row 0 is the top of the framebuffer; nearer (smaller z)
  // wins the depth test where a turned head folds the mesh over itself.
  gl_Position = vec4(c.x, -c.y, clamp(a_pos.z * u_depth, -1.0, 1.0), 1.0);
  v_uv = a_uv;
  v_weight = a_weight.xyz;
}`;

// Lab conversions mirror face/colour.ts (D65, exact sRGB curve, white = image of RGB 1,1,1).
const fragment = /* glsl */ `#version 300 es
precision highp float;
uniform sampler2D u_tex;
uniform bool u_colour;
uniform vec3 u_scale, u_offset;  // target_lab = source_lab * scale + offset
uniform bool u_keepEyes, u_keepMouth;
in vec2 v_uv;
in vec3 v_weight;
out vec4 o;

const mat3 RGB2XYZ = mat3(0.4124564, 0.3575761, 0.1804375, 0.2126729, 0.7151522, 0.072175, 0.0193339, 0.119192, 0.9503041);
const mat3 XYZ2RGB = mat3(3.2404542, -1.5371385, -0.4985314, -0.9692660, 1.8760108, 0.0415560, 0.0556434, -0.2040259, 1.0572252);
const vec3 WHITE = vec3(0.9504700, 1.0000001, 1.0888300);
const float EPS = 216.0 / 24389.0, KAPPA = 24389.0 / 27.0;

vec3 toLinear(vec3 c) { return mix(c / 12.92, pow((c + 0.055) / 1.055, vec3(2.4)), step(0.04045, c)); }
vec3 toSrgb(vec3 c) { return mix(12.92 * c, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, c)); }
vec3 labF(vec3 t) { return mix((KAPPA * t + 16.0) / 116.0, pow(max(t, 0.0), vec3(1.0 / 3.0)), step(EPS, t)); }

vec3 srgbToLab(vec3 c) {
  // v * M with M built row by row is M (row-major) · v.
  vec3 f = labF(toLinear(c) * RGB2XYZ / WHITE);
  return vec3(116.0 * f.y - 16.0, 500.0 * (f.x - f.y), 200.0 * (f.y - f.z));
}
vec3 labToSrgb(vec3 lab) {
  float fy = (lab.x + 16.0) / 116.0;
  vec3 f = vec3(fy + lab.y / 500.0, fy, fy - lab.z / 200.0);
  vec3 xyz = mix((116.0 * f - 16.0) / KAPPA, f * f * f, step(EPS, f * f * f));
  xyz.y = lab.x > KAPPA * EPS ? fy * fy * fy : lab.x / KAPPA;
  return toSrgb(clamp(xyz * WHITE * XYZ2RGB, 0.0, 1.0));
}

void main() {
  vec3 rgb = texture(u_tex, v_uv).rgb;
  if (u_colour) rgb = labToSrgb(srgbToLab(rgb) * u_scale + u_offset);
  float m = v_weight.x;
  if (u_keepEyes) m = min(m, v_weight.y);
  if (u_keepMouth) m = min(m, v_weight.z);
  // Smoothstep hides the kinks of the per-triangle linear ramp.
  o = vec4(rgb, smoothstep(0.0, 1.0, m));
}`;

export interface WarpParams {
  tex: WebGLTexture;
  /** Pixel space of the landmarks in the position buffer. */
  size: readonly [number, number];
  /** The rectangle of that space the viewport shows: x, y, width, height. */
  view: readonly [number, number, number, number];
  transfer: ColourTransfer | null;
  keepEyes: boolean;
  keepMouth: boolean;
}

export function createWarpProgram(gl: WebGL2RenderingContext) {
  const program = createProgram(gl, 'mesh/warp', vertex, fragment);
  const u = uniforms(gl, program, ['u_view', 'u_depth', 'u_tex', 'u_colour', 'u_scale', 'u_offset', 'u_keepEyes', 'u_keepMouth']);
  return {
    program,
    /** Draws `count` indices of the bound mesh VAO into the bound framebuffer, which needs a depth buffer. */
    draw(p: WarpParams, count: number): void {
      gl.useProgram(program);
      gl.uniform4f(u.u_view, ...p.view);
      gl.uniform1f(u.u_depth, 1 / Math.max(p.size[0], p.size[1]));
      bindTexture(gl, u.u_tex, 0, p.tex);
      gl.uniform1i(u.u_colour, p.transfer ? 1 : 0);
      if (p.transfer) {
        gl.uniform3fv(u.u_scale, p.transfer.scale);
        gl.uniform3fv(u.u_offset, p.transfer.offset);
      }
      gl.uniform1i(u.u_keepEyes, p.keepEyes ? 1 : 0);
      gl.uniform1i(u.u_keepMouth, p.keepMouth ? 1 : 0);
      gl.enable(gl.DEPTH_TEST);
      gl.drawElements(gl.TRIANGLES, count, gl.UNSIGNED_SHORT, 0);
      gl.disable(gl.DEPTH_TEST);
    },
  };
}
