/**
 * The long form of fault 5 (the CI form is test/faults/redeploy-soak.test.ts, 30 + 30):
 * 100 full redeploys and 100 removals/re-adds of a flow with all four Diaspora nodes on the real
 * Node-RED runtime, then the sockets, timers, listeners and consumer group members left behind.
 *
 *   npm run build && npm run fabric -- start
 *   node dist/bench/soak-redeploy.js [redeploys=100] [removals=100]
 *
 * Uses the running local fabric (DIASPORA_FABRIC_DIR, default .fabric/). Exit code 1 when
 * something was left behind.
 */
import * as crypto from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import diasporaConfig = require('../nodes/diaspora-config/diaspora-config');
import diasporaIn = require('../nodes/diaspora-in/diaspora-in');
import diasporaOut = require('../nodes/diaspora-out/diaspora-out');
import diasporaTopic = require('../nodes/diaspora-topic/diaspora-topic');
import { loadFabric } from '../test/fixtures/fabric';
import { nodeRedHelper, type NodeModule } from '../test/fixtures/node-red';
import { runSoak, type ResourceCounts } from '../test/faults/support/soak';

function counts(c: ResourceCounts): string {
  return `broker sockets ${c.brokerSockets}, TCP sockets ${c.resources.TCPSocketWrap ?? 0}, timers ${c.resources.Timeout ?? 0}, process listeners ${c.processListeners}, runtime listeners ${c.runtimeListeners}`;
}

async function main(): Promise<number> {
  const redeploys = Number(process.argv[2] ?? 100);
  const removals = Number(process.argv[3] ?? 100);
  const fabric = loadFabric();
  const helper = nodeRedHelper();
  const admin = new Kafka({ clientId: 'soak-admin', brokers: fabric.brokers, sasl: { mechanism: 'scram-sha-512', ...fabric.admin }, logLevel: logLevel.NOTHING });
  const figures = await runSoak({
    helper,
    nodes: [diasporaConfig, diasporaOut, diasporaIn, diasporaTopic] as NodeModule[],
    fabric,
    admin,
    redeploys,
    removals,
    topic: `soak-${crypto.randomBytes(3).toString('hex')}`,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  await helper.unload();
  const timersGrew = (figures.after.resources.Timeout ?? 0) - (figures.before.resources.Timeout ?? 0);
  const socketsGrew = (figures.after.resources.TCPSocketWrap ?? 0) - (figures.before.resources.TCPSocketWrap ?? 0);
  const leaked =
    figures.after.brokerSockets > 0 ||
    figures.groupMembersAtEnd > 0 ||
    figures.peakGroupMembers > 1 ||
    figures.after.processListeners > figures.before.processListeners ||
    figures.after.runtimeListeners > figures.before.runtimeListeners ||
    timersGrew > 3 ||
    socketsGrew > 4;
  process.stdout.write(
    [
      `redeploy soak: ${redeploys} redeploys + ${removals} removals/re-adds in ${(figures.elapsedMs / 1000).toFixed(0)} s (slowest deploy ${figures.slowestDeployMs} ms, ${figures.roundTrips} round trips out → in)`,
      `  before: ${counts(figures.before)}`,
      `  after:  ${counts(figures.after)}`,
      `  peak broker sockets ${figures.peakBrokerSockets}; consumer group members: peak ${figures.peakGroupMembers}, at the end ${figures.groupMembersAtEnd}`,
      `  errors caught: ${figures.caughtErrors.length}${figures.caughtErrors.length ? ` (${figures.caughtErrors.slice(0, 3).join('; ')})` : ''}`,
      leaked ? '  RESULT: something was left behind' : '  RESULT: nothing left behind',
      '',
    ].join('\n'),
  );
  return leaked || figures.caughtErrors.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`soak-redeploy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
