/**
 * The benchmark's Node-RED: a real runtime in a process of its own, with a user directory whose
 * node_modules holds this package (a link to the repository) and the bench nodes. Run as
 * `node host.js <userDir> [<settings as JSON>]`; prints one JSON line `{"port": n}` once started;
 * stops on SIGTERM.
 */
import { runEmbeddedNodeRed } from '../../test/fixtures/embedded-node-red';

const [userDir, extraSettings = '{}'] = process.argv.slice(2);
if (!userDir) throw new Error('usage: node host.js <userDir> [<settings as JSON>]');
runEmbeddedNodeRed({
  userDir,
  flowFile: 'flows.json',
  disableEditor: true,
  apiMaxLength: '50mb',
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  telemetry: { enabled: false },
  ...(JSON.parse(extraSettings) as Record<string, unknown>),
});
