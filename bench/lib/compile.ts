import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

/**
 * Compiles a bench script and everything it imports from this repository (Deadletter's
 * TypeScript included) into one JavaScript file, as a deployment would run it: plain Node, no
 * TypeScript loader in the process. Packages stay outside the bundle and load from
 * node_modules as usual (the bundle is written inside `bench/`, so Node finds them).
 *
 * Each module keeps its own `import.meta.url` (Deadletter finds its migration files beside its
 * sources with it), so the code behaves exactly as under tsx.
 */
export async function compileScript(script: string): Promise<string> {
  const benchDir = fileURLToPath(new URL('..', import.meta.url));
  const entry = join(benchDir, script);
  const outfile = join(benchDir, '.build', `${script.replace(/\.ts$/, '')}.mjs`);
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: false,
    logLevel: 'error',
    plugins: [ownImportMetaUrl],
  });
  return relative(benchDir, outfile);
}

/**
 * `import.meta.url`, spelled so that this file's own text does not hold it: compiled, this
 * module would otherwise search for its own URL instead (a compiled script compiles its own
 * children: `pipeline/deadletter-pg.ts` its worker processes).
 */
const IMPORT_META_URL = ['import', 'meta', 'url'].join('.');

/** Replaces `import.meta.url` in each TypeScript module with that module's own URL. */
const ownImportMetaUrl: Plugin = {
  name: 'own-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      return {
        contents: source.replaceAll(IMPORT_META_URL, JSON.stringify(pathToFileURL(args.path).href)),
        loader: 'ts',
      };
    });
  },
};
