/**
 * What the published tarball must hold, as rules over its file list. Node-RED users need the compiled
 * nodes with their editor .html, message catalogs and icons, the compiled lib/ those nodes require, the
 * example flows and the package documents — and nothing else: no fabric, tests, benchmarks, build
 * scripts or source maps (the maps would point at .ts sources that are not shipped).
 * Used by `npm run pack:check` (scripts/pack-check.ts) and test/package/install.test.ts.
 */
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';

export interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  'node-red'?: { version?: string; nodes?: Record<string, string> };
}

/** Files tsc does not compile but Node-RED needs beside each node's .js (scripts/copy-assets.js). */
const NODE_ASSET_EXTENSIONS = new Set(['.html', '.json', '.svg', '.png']);
const PACKAGE_DOCUMENTS = ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE'];
/** Where a path that must not ship usually comes from, for a clearer message. */
const NOT_FOR_USERS = /^(fabric|test|bench|scripts|docs|\.fabric|\.ci|\.demo|node_modules|dist\/(test|fabric|scripts|bench))\/|\.map$|\.ts$|\.tgz$/;

export function readPackageJson(root: string): PackageJson {
  return JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageJson;
}

/** The node sets of package.json's `node-red.nodes`: set name → compiled .js path. */
export function nodeSets(pkg: PackageJson): Array<[string, string]> {
  const nodes = pkg['node-red']?.nodes;
  if (!nodes || Object.keys(nodes).length === 0) throw new Error('package.json has no node-red.nodes');
  return Object.entries(nodes);
}

/** Every file under dir, as '/'-separated paths relative to dir (empty when dir does not exist). */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const found: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(child);
      } else {
        found.push(child);
      }
    }
  };
  walk('');
  return found.sort();
}

function isCompiledSource(file: string): boolean {
  return file.endsWith('.ts') && !file.endsWith('.d.ts');
}

/** Editor code (nodes/<type>/editor/, nodes/shared/editor/) ships only bundled into each node's .html. */
function isEditorSource(file: string): boolean {
  return /^[^/]+\/editor\//.test(file);
}

/** Every file the tarball must hold, derived from the source tree at root (paths relative to the package). */
export function expectedPackageFiles(root: string, pkg: PackageJson): Set<string> {
  const expected = new Set<string>(PACKAGE_DOCUMENTS);
  for (const [, js] of nodeSets(pkg)) {
    expected.add(js);
    expected.add(js.replace(/\.js$/, '.html'));
  }
  for (const file of listFiles(path.join(root, 'nodes'))) {
    if (isEditorSource(file)) continue;
    if (isCompiledSource(file)) expected.add(`dist/nodes/${file.replace(/\.ts$/, '.js')}`);
    else if (NODE_ASSET_EXTENSIONS.has(path.extname(file))) expected.add(`dist/nodes/${file}`);
  }
  for (const file of listFiles(path.join(root, 'lib'))) {
    if (isCompiledSource(file)) expected.add(`dist/lib/${file.replace(/\.ts$/, '.js')}`);
  }
  for (const file of listFiles(path.join(root, 'examples'))) {
    if (file.endsWith('.json')) expected.add(`examples/${file}`);
  }
  return expected;
}

/** What a Node-RED user needs to find in the tarball for each node set, spelled out for the messages. */
function perNodeProblems(pkg: PackageJson, shipped: Set<string>): string[] {
  const problems: string[] = [];
  for (const [name, js] of nodeSets(pkg)) {
    const dir = path.posix.dirname(js);
    for (const needed of [js, js.replace(/\.js$/, '.html'), `${dir}/locales/en-US/${name}.json`, `${dir}/locales/en-US/${name}.html`]) {
      if (!shipped.has(needed)) problems.push(`node set ${name}: ${needed} is missing from the tarball`);
    }
  }
  return problems;
}

/** Icons named by an editor .html (`icon: "x.svg"`) must be shipped in one of the package's icons/ folders. */
function iconProblems(shipped: Set<string>, read: (file: string) => string): string[] {
  const shippedIcons = new Set([...shipped].filter((f) => /^dist\/nodes\/[^/]+\/icons\//.test(f)).map((f) => path.posix.basename(f)));
  const problems: string[] = [];
  for (const file of [...shipped].filter((f) => /^dist\/nodes\/[^/]+\/[^/]+\.html$/.test(f))) {
    for (const match of read(file).matchAll(/\bicon\s*:\s*["']([^"']+)["']/g)) {
      const icon = match[1]!;
      // Icons Node-RED itself serves (font-awesome/…, node-red/…) are not ours to ship.
      if (/^(font-awesome|node-red)\//.test(icon)) continue;
      if (!shippedIcons.has(icon)) problems.push(`${file} uses icon ${icon}, which no icons/ folder in the tarball holds`);
    }
  }
  return problems;
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * Every `require()` / `import()` in the shipped .js resolves for a user: relative ones to a shipped file,
 * bare ones to a Node.js built-in or one of `dependencies` (a devDependency would be absent after install).
 */
function requireProblems(pkg: PackageJson, shipped: Set<string>, read: (file: string) => string): string[] {
  const dependencies = new Set(Object.keys(pkg.dependencies ?? {}));
  const builtins = new Set(builtinModules);
  const problems: string[] = [];
  for (const file of [...shipped].filter((f) => f.endsWith('.js'))) {
    const source = read(file);
    for (const match of source.matchAll(/(?<![\w$.])(?:require(?:\.resolve)?|import)\(\s*["']([^"']+)["']\s*\)/g)) {
      const specifier = match[1]!;
      if (specifier.startsWith('.')) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
        const candidates = [target, `${target}.js`, `${target}.json`, `${target}/index.js`];
        if (!candidates.some((candidate) => shipped.has(candidate))) {
          problems.push(`${file} requires ${specifier}, which is not in the tarball`);
        }
      } else if (!specifier.startsWith('node:') && !builtins.has(specifier) && !dependencies.has(packageNameOf(specifier))) {
        problems.push(`${file} requires ${specifier}, which is not in package.json dependencies`);
      }
    }
  }
  return problems;
}

export interface TarballCheck {
  /** The source tree the tarball was built from (nodes/, lib/, examples/). */
  root: string;
  pkg: PackageJson;
  /** Paths in the tarball, relative to its package/ folder. */
  files: string[];
  /** Reads one shipped file's text. */
  read: (file: string) => string;
}

/** Every way the tarball differs from what users need; empty when it is right. */
export function tarballProblems({ root, pkg, files, read }: TarballCheck): string[] {
  const shipped = new Set(files);
  const expected = expectedPackageFiles(root, pkg);
  const problems: string[] = [];
  for (const file of [...expected].sort()) {
    if (!shipped.has(file)) problems.push(`missing from the tarball: ${file}`);
  }
  for (const file of [...shipped].sort()) {
    if (expected.has(file)) continue;
    problems.push(
      NOT_FOR_USERS.test(file)
        ? `not for users, must not ship: ${file}`
        : `shipped but made from no current source (stale build output or a new kind of file?): ${file}`,
    );
  }
  problems.push(...perNodeProblems(pkg, shipped), ...iconProblems(shipped, read), ...requireProblems(pkg, shipped, read));
  return problems;
}
