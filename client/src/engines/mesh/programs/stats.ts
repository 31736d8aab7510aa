// Stats pass: resamples a face (frame or identity texture) into a tiny
// target so its Lab statistics can be read back cheaply. The same mesh and
// weights define "the face" on both sides, so source and target stats cover
// matching regions: bare skin, away from eyes, brows, lips and the outline.
import { bindTexture, createProgram, createTarget, deleteTarget, uniforms } from '../../gl.ts';

const vertex = /* glsl */ `#version 300 es
layout(location = 0) in vec3 a_pos;    // landmark in the image's pixels
layout(location = 2) in vec4 a_weight;
uniform vec4 u_box;                    // face bounding box in pixels: x, y, w, h
uniform vec4 u_image;                  // the texture's rectangle in the same pixels: x, y, w, h (a crop of the image, or all of it)
out vec2 v_uv;
out float v_weight;
void main() {
  gl_Position = vec4((a_pos.xy - u_box.xy) / u_box.zw * 2.0 - 1.0, 0.0, 1.0);
  v_uv = (a_pos.xy - u_image.xy) / u_image.zw;
  v_weight = a_weight.w; // skin: away from the oval, eyes, brows and lips
}`;

const fragment = /* glsl */ `#version 300 es
precision highp float;
uniform sampler2D u_tex;
in vec2 v_uv;
in float v_weight;
out vec4 o;
// Each output pixel stands for a whole block of the source: average a 4×4
// grid over that footprint (a poor man's mipmap), or webcam noise would
// inflate the target's std and the transfer would add contrast.
void main() {
  vec2 dx = dFdx(v_uv), dy = dFdy(v_uv);
  vec3 sum = vec3(0.0);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      sum += texture(u_tex, v_uv + dx * (float(i) - 1.5) / 4.0 + dy * (float(j) - 1.5) / 4.0).rgb;
  // labStats counts alpha >= 128: pixels at least half-way into the skin region.
  o = vec4(sum / 16.0, v_weight);
}`;

export function createStatsProgram(gl: WebGL2RenderingContext, size = 32) {
  const program = createProgram(gl, 'mesh/stats', vertex, fragment);
  const u = uniforms(gl, program, ['u_box', 'u_image', 'u_tex']);
  const target = createTarget(gl, size, size);
  const pixels = new Uint8Array(size * size * 4);
  return {
    program,
    /**
     * Draws `count` indices of the bound mesh VAO, sampling `tex`, which
     * holds the rectangle `image` = [x, y, w, h] of the landmarks' pixel
     * space, with `box` = [x0, y0, x1, y1] filling the target, and reads it
     * back: RGBA bytes, alpha = skin weight. Synchronous (stalls).
     */
    read(tex: WebGLTexture, image: readonly [number, number, number, number], box: readonly number[], count: number): Uint8Array {
      const [x0 = 0, y0 = 0, x1 = 0, y1 = 0] = box;
      gl.bindFramebuffer(gl.FRAMEBUFFER, target.fbo);
      gl.viewport(0, 0, size, size);
      gl.clearColor(0, 0, 0, 0);
      gl.clear(gl.COLOR_BUFFER_BIT);
      gl.useProgram(program);
      gl.uniform4f(u.u_box, x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
      gl.uniform4f(u.u_image, ...image);
      bindTexture(gl, u.u_tex, 0, tex);
      gl.drawElements(gl.TRIANGLES, count, gl.UNSIGNED_SHORT, 0);
      gl.readPixels(0, 0, size, size, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
      return pixels;
    },
    dispose(): void {
      gl.deleteProgram(program);
      deleteTarget(gl, target);
    },
  };
}
