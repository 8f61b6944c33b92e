// How we compile our TypeScript for Node with esbuild, for the CLI's bundle
// (scripts/build-cli.mjs) and the test runner's: `nodeBundle(options)` gives
// esbuild's options for ESM bundles of our own code, packages left as
// imports from node_modules, dynamic imports as chunks, source maps beside.
//
// In a bundle every module would share the bundle's `import.meta.url`, but
// our sources use theirs to find files beside them (migrations, the GraphQL
// schema, the console's files, worker entry points). So a plugin replaces
// `import.meta.url` in each source that uses it (TypeScript and our .mjs/.js
// modules alike; as an expression, through esbuild's own parser, so text in
// strings and comments is left alone) with that source's URL:
//   relativeTo: DIR   computed from the bundle's own URL, for a bundle whose
//                     files all sit in DIR (the checkout can then move);
//   relativeTo unset  the source's absolute file URL (a bundle that lives
//                     and dies on this machine, as the test runner's).
import { readFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const OWN_URL = '__wgOwnImportMetaUrl';

function ownImportMetaUrl({ relativeTo } = {}) {
  return {
    name: 'own-import-meta-url',
    setup(build) {
      // TypeScript and our plain JavaScript modules (packages stay external, so never come here).
      build.onLoad({ filter: /\.(ts|mts|mjs|js)$/ }, async ({ path }) => {
        // A hashbang line (#!/usr/bin/env node) is only valid as a file's first line: keep it as a comment.
        const source = (await readFile(path, 'utf8')).replace(/^#!/, '//');
        const resolveDir = dirname(path);
        const loader = /\.m?ts$/.test(path) ? 'ts' : 'js';
        if (!source.includes('import.meta.url')) return { contents: source, loader, resolveDir };
        const url =
          relativeTo === undefined
            ? JSON.stringify(pathToFileURL(path).href)
            : `new URL(${JSON.stringify(relative(relativeTo, path).split('\\').join('/'))}, import.meta.url).href`;
        const esbuild = await import('esbuild');
        const { code } = await esbuild.transform(source, {
          loader,
          format: 'esm',
          target: 'node20',
          define: { 'import.meta.url': OWN_URL },
          sourcemap: 'inline',
          sourcefile: path,
        });
        // On the first line, so the inline source map's line numbers still hold.
        return { contents: `const ${OWN_URL} = ${url}; ${code}`, loader: 'js', resolveDir };
      });
    },
  };
}

/** esbuild options for a bundle of our code under `outdir` (see the top of this file); `extra` adds or overrides. */
export function nodeBundle({ root, entryPoints, outdir, relativeTo, ...extra }) {
  return {
    absWorkingDir: root,
    entryPoints,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    plugins: [ownImportMetaUrl({ relativeTo })],
    ...extra,
  };
}
