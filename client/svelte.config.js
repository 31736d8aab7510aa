// Defaults are fine; this file only tells tooling where the Svelte project is.
export default {};
