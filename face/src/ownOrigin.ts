// tasks-vision posts usage logs to odml.pa.googleapis.com (every 60 s and on
// close), and offers no switch to turn that off. Guise never reaches outside
// its own origin, so the scope that hosts FaceLandmarker refuses such fetches
// before they leave: the library's logger catches the refusal and stops.

/** Makes `scope.fetch` refuse any URL outside `origin` (data: and blob: stay allowed). Idempotent. */
export function keepFetchOnOrigin(scope: { fetch: typeof fetch }, origin: string): void {
  const inner = scope.fetch;
  if (refusing.has(inner)) return;
  const guarded: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input), origin);
    if (/^https?:$/.test(url.protocol) && url.origin !== origin) {
      return Promise.reject(new TypeError(`refused a request outside ${origin}: ${url.origin}`));
    }
    return inner.call(scope, input, init);
  };
  refusing.add(guarded);
  scope.fetch = guarded;
}

const refusing = new WeakSet<typeof fetch>();
