#!/usr/bin/env node
// Launcher for `citadel`. The CLI is TypeScript that Node runs directly by stripping the
// types, which Node does by default from 22.18 (and 23.6); older Nodes, such as a system
// Node 20, cannot load it, so say what to do instead of failing with a syntax error.
// `process.features.typescript` is 'strip' or 'transform' where Node can, false or absent where not.
const typeStripping = process.features.typescript;

if (typeStripping === undefined || typeStripping === false) {
  process.stderr.write(
    `citadel: Node ${process.versions.node} cannot run TypeScript (needs Node >= 22.18); ` +
      "run it through npx/npm so the project's Node 24 is used, e.g. `npx citadel --help`.\n",
  );
  process.exit(1);
}

await import('../src/main.ts');
