/**
 * The editor's Diaspora sidebar (a Node-RED plugin): the runtime pushes the live snapshot of
 * nodes/shared/live-registry.ts to every editor once a second over Node-RED's comms, as topic
 * `diaspora/live`; the editor side is diaspora-sidebar.html. Read access to the snapshot is the
 * comms connection's own (Node-RED authenticates it); GET /diaspora/live serves the first paint.
 */
import type { NodeAPI } from 'node-red';
import { hasLiveSources, liveSnapshot } from '../shared/live-registry';
import { liveStatusEnabled } from '../shared/live-status';

const LIVE_TOPIC = 'diaspora/live';
const PUSH_INTERVAL_MS = 1_000;

interface PluginAPI {
  plugins: { registerPlugin(id: string, definition: { type: string }): void };
  comms: { publish(topic: string, data: unknown, retain: boolean): void };
}

export = function register(RED: NodeAPI & PluginAPI): void {
  RED.plugins.registerPlugin('diaspora-sidebar', { type: 'diaspora-sidebar' });
  const liveStatus = liveStatusEnabled(RED);
  let wasEmpty = true;
  const timer = setInterval(() => {
    const empty = !hasLiveSources();
    // One empty snapshot after the last node went, so the editors clear their view; then quiet.
    if (empty && wasEmpty) return;
    wasEmpty = empty;
    RED.comms.publish(LIVE_TOPIC, liveSnapshot(liveStatus), true);
  }, PUSH_INTERVAL_MS);
  timer.unref();
};
