// Composite pass: paste the warped face back into the frame through its mask,
// drawn as one full-screen triangle into the canvas.
import { bindTexture, createProgram, uniforms } from '../../gl.ts';

const vertex = /* glsl */ `#version 300 es
void main() {
  // A triangle covering the viewport, from the vertex id alone (no buffers).
  vec2 p = vec2(gl_VertexID == 1 ? 3.0 : -1.0, gl_VertexID == 2 ? 3.0 : -1.0);
  gl_Position = vec4(p, 0.0, 1.0);
}`;

const fragment = /* glsl */ `#version 300 es
precision highp float;
uniform sampler2D u_frame, u_warp;
uniform vec2 u_size;  // canvas size: the warp target has the same size and orientation
uniform vec4 u_box;   // the part of the warp target drawn this frame (framebuffer pixels: x0, y0, x1, y1)
out vec4 o;
void main() {
  vec2 p = gl_FragCoord.xy / u_size;
  bool inside = all(greaterThanEqual(gl_FragCoord.xy, u_box.xy)) && all(lessThan(gl_FragCoord.xy, u_box.zw));
  vec4 face = inside ? texture(u_warp, p) : vec4(0.0);
  // The frame texture's row 0 is the image top, the canvas's is the bottom.
  vec3 frame = texture(u_frame, vec2(p.x, 1.0 - p.y)).rgb;
  o = vec4(mix(frame, face.rgb, face.a), 1.0);
}`;

export function createCompositeProgram(gl: WebGL2RenderingContext) {
  const program = createProgram(gl, 'mesh/composite', vertex, fragment);
  const u = uniforms(gl, program, ['u_frame', 'u_warp', 'u_size', 'u_box']);
  return {
    program,
    /** Into the bound framebuffer (size pixels); `box` is where `warp` was drawn this frame. */
    draw(frame: WebGLTexture, warp: WebGLTexture, size: readonly [number, number], box: readonly number[]): void {
      gl.viewport(0, 0, size[0], size[1]);
      gl.useProgram(program);
      bindTexture(gl, u.u_frame, 0, frame);
      bindTexture(gl, u.u_warp, 1, warp);
      gl.uniform2f(u.u_size, size[0], size[1]);
      gl.uniform4f(u.u_box, box[0] ?? 0, box[1] ?? 0, box[2] ?? 0, box[3] ?? 0);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
    },
  };
}
