/**
 * `npm run pack:check`: builds, then asks npm what `npm pack` would publish from this checkout and
 * checks it against scripts/package-contents.ts (compiled nodes with .html, locales and icons, lib/,
 * examples/, the package documents, and nothing else). Exits 1 and lists every problem otherwise.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readPackageJson, tarballProblems } from './package-contents';

interface PackReport {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: Array<{ path: string }>;
}

const root = path.resolve(__dirname, '..', '..');
const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
  cwd: root,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
const [report] = JSON.parse(output) as PackReport[];
if (!report) throw new Error('npm pack --dry-run --json reported no package');

const problems = tarballProblems({
  root,
  pkg: readPackageJson(root),
  files: report.files.map((file) => file.path),
  read: (file) => fs.readFileSync(path.join(root, file), 'utf8'),
});
const kB = (bytes: number): string => `${(bytes / 1000).toFixed(1)} kB`; // as npm counts
process.stdout.write(`${report.filename}: ${report.entryCount} files, ${kB(report.size)} packed, ${kB(report.unpackedSize)} unpacked\n`);
if (problems.length > 0) {
  process.stderr.write(`pack:check found ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('pack:check: the tarball holds exactly what Node-RED users need\n');
