/**
 * Builds the package from a clean copy of this checkout and packs it, as a release would (`npm pack`,
 * whose prepack builds the shipped code alone): the copy is not touched by other builds running
 * meanwhile, yet holds every source a checkout holds (fabric/, test/, bench/), so the tarball proves
 * that package.json's `files` keeps them out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listFiles } from '../../scripts/package-contents';
import { run } from './run';

export interface PackedPackage {
  /** The copy of the checkout the tarball was built from. */
  sourceDir: string;
  tarball: string;
  /** Bytes of the .tgz. */
  size: number;
  /** The tarball's files, relative to its package/ folder, as tar extracted them. */
  files: string[];
  /** Where the tarball was extracted, to read shipped files. */
  unpackedDir: string;
}

/** Files of the checkout as git sees them (tracked or new, never ignored ones such as dist/ or .fabric/). */
async function checkoutFiles(repoRoot: string): Promise<string[]> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    timeoutMs: 30_000,
    what: 'listing the checkout (git ls-files) to build the package from a clean copy',
  });
  return stdout.split('\0').filter((file) => file !== '');
}

async function copyCheckout(repoRoot: string, sourceDir: string): Promise<void> {
  for (const file of await checkoutFiles(repoRoot)) {
    const from = path.join(repoRoot, file);
    // A file deleted from the work tree but still tracked is simply not part of this build.
    if (!fs.existsSync(from) || !fs.statSync(from).isFile()) continue;
    fs.mkdirSync(path.dirname(path.join(sourceDir, file)), { recursive: true });
    fs.copyFileSync(from, path.join(sourceDir, file));
  }
  // The build needs the dev tools (tsc, type packages); they are not part of what gets packed.
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(sourceDir, 'node_modules'), 'dir');
}

export async function buildAndPack(repoRoot: string, workDir: string): Promise<PackedPackage> {
  const sourceDir = path.join(workDir, 'source');
  const unpackedDir = path.join(workDir, 'unpacked');
  fs.mkdirSync(sourceDir, { recursive: true });
  fs.mkdirSync(unpackedDir, { recursive: true });
  await copyCheckout(repoRoot, sourceDir);

  // As a release: npm pack's prepack empties dist/ and builds only the shipped code (tsconfig.package.json).
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', workDir], {
    cwd: sourceDir,
    timeoutMs: 180_000,
    what: 'npm pack (its prepack builds the shipped code alone)',
  });
  const [report] = JSON.parse(stdout) as Array<{ filename: string }>;
  if (!report) throw new Error(`npm pack reported no tarball:\n${stdout}`);
  const tarball = path.join(workDir, report.filename);

  await run('tar', ['-xzf', tarball, '-C', unpackedDir], { cwd: workDir, timeoutMs: 30_000, what: 'extracting the tarball' });
  const packageDir = path.join(unpackedDir, 'package');
  return { sourceDir, tarball, size: fs.statSync(tarball).size, files: listFiles(packageDir), unpackedDir: packageDir };
}
