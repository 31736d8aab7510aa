// Small WebGL2 helpers shared by the engines' shader programs.

type GL = WebGL2RenderingContext;

/** Source with line numbers, so a compiler log's "0:12" can be found. */
function numbered(src: string): string {
  return src.split('\n').map((line, i) => `${String(i + 1).padStart(3)}| ${line}`).join('\n');
}

function compile(gl: GL, type: number, src: string, name: string): WebGLShader {
  const shader = gl.createShader(type);
  if (!shader) throw new Error(`${name}: createShader failed (context lost?)`);
  gl.shaderSource(shader, src);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS) && !gl.isContextLost()) {
    const log = gl.getShaderInfoLog(shader);
    gl.deleteShader(shader);
    const kind = type === gl.VERTEX_SHADER ? 'vertex' : 'fragment';
    throw new Error(`${name}: ${kind} shader failed to compile:\n${log}\n${numbered(src)}`);
  }
  return shader;
}

/**
 * Compiles and links a program. Attribute locations should be fixed in the
 * shader (`layout(location = n)`), so one VAO can serve several programs.
 */
export function createProgram(gl: GL, name: string, vertex: string, fragment: string): WebGLProgram {
  const vs = compile(gl, gl.VERTEX_SHADER, vertex, name);
  const fs = compile(gl, gl.FRAGMENT_SHADER, fragment, name);
  const program = gl.createProgram();
  if (!program) throw new Error(`${name}: createProgram failed (context lost?)`);
  gl.attachShader(program, vs);
  gl.attachShader(program, fs);
  gl.linkProgram(program);
  // The shaders aren't needed once linked (or once linking failed).
  gl.deleteShader(vs);
  gl.deleteShader(fs);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS) && !gl.isContextLost()) {
    const log = gl.getProgramInfoLog(program);
    gl.deleteProgram(program);
    throw new Error(`${name}: program failed to link:\n${log}`);
  }
  return program;
}

/** Uniform locations by name; a name the linker optimised away maps to null, which gl.uniform* ignores. */
export function uniforms<K extends string>(gl: GL, program: WebGLProgram, names: readonly K[]): Record<K, WebGLUniformLocation | null> {
  return Object.fromEntries(names.map((n) => [n, gl.getUniformLocation(program, n)])) as Record<K, WebGLUniformLocation | null>;
}

/** An RGBA8 texture, linear-filtered and edge-clamped (no mipmaps: sizes needn't be powers of two). */
export function createTexture(gl: GL, width = 1, height = 1, data: ArrayBufferView | null = null): WebGLTexture {
  const tex = gl.createTexture();
  if (!tex) throw new Error('createTexture failed (context lost?)');
  gl.bindTexture(gl.TEXTURE_2D, tex);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, data);
  return tex;
}

/** A buffer filled with `data`: ARRAY_BUFFER or ELEMENT_ARRAY_BUFFER (bind the VAO first for the latter). */
export function createBuffer(gl: GL, target: number, data: ArrayBufferView, usage: number = gl.STATIC_DRAW): WebGLBuffer {
  const b = gl.createBuffer();
  if (!b) throw new Error('createBuffer failed (context lost?)');
  gl.bindBuffer(target, b);
  gl.bufferData(target, data, usage);
  return b;
}

export interface Target {
  fbo: WebGLFramebuffer;
  tex: WebGLTexture;
  depth: WebGLRenderbuffer | null;
  width: number;
  height: number;
}

/** A framebuffer rendering into a fresh RGBA8 texture, with a depth buffer if asked. */
export function createTarget(gl: GL, width: number, height: number, depth = false): Target {
  const tex = createTexture(gl, width, height);
  const fbo = gl.createFramebuffer();
  if (!fbo) throw new Error('createFramebuffer failed (context lost?)');
  gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
  gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0);
  let rb: WebGLRenderbuffer | null = null;
  if (depth) {
    rb = gl.createRenderbuffer();
    gl.bindRenderbuffer(gl.RENDERBUFFER, rb);
    gl.renderbufferStorage(gl.RENDERBUFFER, gl.DEPTH_COMPONENT24, width, height);
    gl.framebufferRenderbuffer(gl.FRAMEBUFFER, gl.DEPTH_ATTACHMENT, gl.RENDERBUFFER, rb);
  }
  const status = gl.checkFramebufferStatus(gl.FRAMEBUFFER);
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  if (status !== gl.FRAMEBUFFER_COMPLETE && !gl.isContextLost()) {
    throw new Error(`framebuffer ${width}×${height} incomplete: 0x${status.toString(16)}`);
  }
  return { fbo, tex, depth: rb, width, height };
}

export function deleteTarget(gl: GL, t: Target): void {
  gl.deleteFramebuffer(t.fbo);
  gl.deleteTexture(t.tex);
  if (t.depth) gl.deleteRenderbuffer(t.depth);
}

/** Binds `tex` to texture unit `unit` and points a sampler uniform at it. */
export function bindTexture(gl: GL, loc: WebGLUniformLocation | null, unit: number, tex: WebGLTexture): void {
  gl.activeTexture(gl.TEXTURE0 + unit);
  gl.bindTexture(gl.TEXTURE_2D, tex);
  gl.uniform1i(loc, unit);
}
