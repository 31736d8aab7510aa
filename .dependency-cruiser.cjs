// The import boundary between the workspace's top-level folders (client,
// server, shared, face, e2e, scripts, models): one reaches another only by
// package name (`@guise/face/align`), never by a relative path into its
// source, so each package's exports are its whole surface.
// Run by scripts/test.sh: `pnpm exec depcruise --config .dependency-cruiser.cjs client server shared face e2e scripts models`.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-relative-import-across-packages',
      severity: 'error',
      comment: 'Import the other package by name (its package.json "exports"), not by a relative path into its folder.',
      from: { path: '^(client|server|shared|face|e2e|scripts|models)/' },
      to: { dependencyTypes: ['local'], pathNot: '^$1/' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    exclude: { path: '(^|/)(node_modules|dist|\\.tsbuild|\\.venv|__pycache__)/' },
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.svelte', '.d.ts'],
    },
  },
};
