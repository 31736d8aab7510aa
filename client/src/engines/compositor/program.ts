// The compositor's one draw: a face image (the identity photo, or the IDN's
// generated crop) drawn on the face-mesh triangulation at the target's
// landmarks, with its colour and shading moved to the target's, and the paste
// mask in alpha. The mask is the face oval, feathered, times the cuts the
// options ask for (the target's eyes and mouth), times two skin tests per
// pixel: the face image's pixel must look like its own skin there (hair or a
// hand over the photo is left out, and the target shows through), and the
// target's pixel must look like the target's skin (glasses frames and hands
// in front of the face stay in front). It draws only the face's rectangle.
import type { ColourTransfer } from '@guise/face/colour';
import { SKIN_DISTANCE, SKIN_L_WEIGHT } from '@guise/face/composite';
import { bindTexture, createProgram, uniforms } from '../gl.ts';

/** Attribute locations of the mesh VAO. */
export const ATTR = { pos: 0, uv: 1, weight: 2, sourceSkin: 3, targetSkin: 4 } as const;

// Lab conversions mirror face/colour.ts (D65, exact sRGB curve, white = image of RGB 1,1,1).
const LAB = /* glsl */ `
const mat3 RGB2XYZ = mat3(0.4124564, 0.3575761, 0.1804375, 0.2126729, 0.7151522, 0.072175, 0.0193339, 0.119192, 0.9503041);
const mat3 XYZ2RGB = mat3(3.2404542, -1.5371385, -0.4985314, -0.9692660, 1.8760108, 0.0415560, 0.0556434, -0.2040259, 1.0572252);
const vec3 WHITE = vec3(0.9504700, 1.0000001, 1.0888300);
const float EPS = 216.0 / 24389.0, KAPPA = 24389.0 / 27.0;
const vec3 SKIN_WEIGHTS = vec3(${SKIN_L_WEIGHT.toFixed(3)}, 1.0, 1.0);
const vec2 SKIN_DISTANCE = vec2(${SKIN_DISTANCE[0].toFixed(1)}, ${SKIN_DISTANCE[1].toFixed(1)});
const float TARGET_DARK_MARGIN = 12.0;

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
`;

const vertex = /* glsl */ `#version 300 es
layout(location = 0) in vec3 a_pos;        // target landmark, pixels (z: MediaPipe depth, same scale as x)
layout(location = 1) in vec2 a_uv;         // the same landmark in the face image, 0..1
layout(location = 2) in vec3 a_weight;     // oval feather, mouth cut, where the skin tests apply
layout(location = 3) in vec3 a_sourceSkin; // the face image's expected skin colour here, 0..1
layout(location = 4) in vec4 a_targetSkin; // the target's expected skin colour here, 0..1; w: shading gain
uniform vec4 u_view;                       // the landmarks' pixel rectangle the viewport shows: x, y, w, h
uniform float u_depth;                     // 1 / max(width, height): keeps z inside the clip volume
out vec2 v_uv;
out vec2 v_frameUv;
out vec3 v_weight;
out vec3 v_sourceSkin; // Lab
out vec4 v_targetSkin; // Lab, gain
${LAB}
void main() {
  vec2 c = (a_pos.xy - u_view.xy) / u_view.zw;
  // y flipped so image row 0 is the top of the framebuffer; nearer (smaller z)
  // wins the depth test where a turned head folds the mesh over itself.
  gl_Position = vec4(c.x * 2.0 - 1.0, 1.0 - c.y * 2.0, clamp(a_pos.z * u_depth, -1.0, 1.0), 1.0);
  v_uv = a_uv;
  v_frameUv = c; // the frame's face box texture covers exactly the view
  v_weight = a_weight;
  // Per vertex, not per pixel: without a GPU every pixel's Lab conversion is CPU time.
  v_sourceSkin = srgbToLab(a_sourceSkin);
  v_targetSkin = vec4(srgbToLab(a_targetSkin.rgb), a_targetSkin.w);
}`;

const fragment = /* glsl */ `#version 300 es
precision highp float;
${LAB}
uniform sampler2D u_tex;      // the face image; alpha: its own mask (1 for a photo)
uniform sampler2D u_frame;    // the frame's face box, small
uniform bool u_colour;
uniform vec3 u_scale, u_offset;  // target_lab = source_lab * scale + offset
uniform bool u_keepMouth, u_skinTests, u_hole;
in vec2 v_uv;
in vec2 v_frameUv;
in vec3 v_weight;
in vec3 v_sourceSkin;
in vec4 v_targetSkin;
out vec4 o;

/** 1 for a pixel that looks like the expected skin, falling to 0 for one that doesn't (face/composite.ts skinDistance). */
float skinLike(vec3 lab, vec3 expected) {
  return 1.0 - smoothstep(SKIN_DISTANCE.x, SKIN_DISTANCE.y, length((lab - expected) * SKIN_WEIGHTS));
}

/**
 * The same for the target's pixel, where only darker counts, and only beyond
 * a margin: hard light makes a lit nose bright and its far side dark, and both
 * are skin; hair, frames and the shadow a hand casts are darker still.
 */
float targetSkinLike(vec3 lab, vec3 expected) {
  vec3 d = lab - expected;
  d.x = min(0.0, d.x + TARGET_DARK_MARGIN);
  return 1.0 - smoothstep(SKIN_DISTANCE.x, SKIN_DISTANCE.y, length(d * SKIN_WEIGHTS));
}

void main() {
  if (u_hole) { o = vec4(0.0); return; } // the target's own eyes show through
  vec4 texel = texture(u_tex, v_uv);
  vec3 lab = srgbToLab(texel.rgb);
  float m = v_weight.x * texel.a;
  if (u_skinTests) {
    m *= mix(1.0, skinLike(lab, v_sourceSkin), v_weight.z);
    m *= mix(1.0, targetSkinLike(srgbToLab(texture(u_frame, v_frameUv).rgb), v_targetSkin.rgb), v_weight.z);
  }
  if (u_colour) {
    lab = lab * u_scale + u_offset;
    lab.x *= v_targetSkin.w;
  }
  if (u_keepMouth) m = min(m, v_weight.y);
  // Smoothstep hides the kinks of the per-triangle linear ramp.
  o = vec4(u_colour ? labToSrgb(lab) : texel.rgb, smoothstep(0.0, 1.0, m));
}`;

export interface CompositeParams {
  tex: WebGLTexture;
  frame: WebGLTexture;
  /** Pixel space of the landmarks in the position buffer. */
  size: readonly [number, number];
  /** The rectangle of that space the viewport shows: x, y, width, height. */
  view: readonly [number, number, number, number];
  transfer: ColourTransfer | null;
  keepMouth: boolean;
  skinTests: boolean;
}

export function createCompositeProgram(gl: WebGL2RenderingContext) {
  const program = createProgram(gl, 'compositor', vertex, fragment);
  const u = uniforms(gl, program, ['u_view', 'u_depth', 'u_tex', 'u_frame', 'u_colour', 'u_scale', 'u_offset', 'u_keepMouth', 'u_skinTests', 'u_hole']);
  return {
    program,
    /**
     * Draws `count` indices of the bound mesh VAO into the bound framebuffer,
     * which needs a depth buffer; then, if asked, cuts `holes` (an index range:
     * the eye openings) out of it, so the target's own eyes show, edge for edge.
     */
    draw(p: CompositeParams, count: number, holes?: { first: number; count: number }): void {
      gl.useProgram(program);
      gl.uniform4f(u.u_view, ...p.view);
      gl.uniform1f(u.u_depth, 1 / Math.max(p.size[0], p.size[1]));
      bindTexture(gl, u.u_tex, 0, p.tex);
      bindTexture(gl, u.u_frame, 1, p.frame);
      gl.uniform1i(u.u_colour, p.transfer ? 1 : 0);
      if (p.transfer) {
        gl.uniform3fv(u.u_scale, p.transfer.scale);
        gl.uniform3fv(u.u_offset, p.transfer.offset);
      }
      gl.uniform1i(u.u_keepMouth, p.keepMouth ? 1 : 0);
      gl.uniform1i(u.u_skinTests, p.skinTests ? 1 : 0);
      gl.uniform1i(u.u_hole, 0);
      gl.enable(gl.DEPTH_TEST);
      gl.drawElements(gl.TRIANGLES, count, gl.UNSIGNED_SHORT, 0);
      gl.disable(gl.DEPTH_TEST);
      if (holes) {
        gl.uniform1i(u.u_hole, 1);
        gl.drawElements(gl.TRIANGLES, holes.count, gl.UNSIGNED_SHORT, holes.first * 2);
      }
    },
  };
}
