/**
 * Fault 5 (CI form): 30 full redeploys and 30 removals/re-adds of a flow with all four Diaspora
 * nodes leave no socket, consumer, timer or listener behind, and consumer group members do not
 * pile up on the broker. The long form (100 + 100) is `bench/soak-redeploy.ts`.
 */
import assert from 'node:assert/strict';
import diasporaConfig = require('../../nodes/diaspora-config/diaspora-config');
import diasporaIn = require('../../nodes/diaspora-in/diaspora-in');
import diasporaOut = require('../../nodes/diaspora-out/diaspora-out');
import diasporaTopic = require('../../nodes/diaspora-topic/diaspora-topic');
import { nodeRedHelper, type NodeModule } from '../fixtures/node-red';
import { faultFabric, type FaultFabric } from './support/fault-fabric';
import { faultTopic } from './support/flows';
import { recordResult } from './support/results';
import { runSoak, type ResourceCounts } from './support/soak';

const helper = nodeRedHelper();
const NODES: NodeModule[] = [diasporaConfig as NodeModule, diasporaOut as NodeModule, diasporaIn as NodeModule, diasporaTopic as NodeModule];
const REDEPLOYS = Number(process.env.DIASPORA_FAULTS_REDEPLOYS ?? 30);
const REMOVALS = Number(process.env.DIASPORA_FAULTS_REMOVALS ?? 30);

function describeCounts(c: ResourceCounts): string {
  return `broker sockets ${c.brokerSockets}, TCP ${c.resources.TCPSocketWrap ?? 0}, timers ${c.resources.Timeout ?? 0}, process listeners ${c.processListeners}, runtime listeners ${c.runtimeListeners}`;
}

describe(`faults: ${REDEPLOYS} redeploys and ${REMOVALS} removals/re-adds of a flow with all four nodes`, function () {
  this.timeout(300_000);
  let fabric: FaultFabric;

  before(async function () {
    this.timeout(180_000);
    fabric = await faultFabric();
  });

  afterEach(async function () {
    await helper.unload();
  });

  it('leave no socket, consumer, timer or listener behind; group members do not pile up', async function () {
    const figures = await runSoak({
      helper,
      nodes: NODES,
      fabric: fabric.description,
      admin: fabric.adminKafka('h10-soak-admin'),
      redeploys: REDEPLOYS,
      removals: REMOVALS,
      topic: faultTopic('soak'),
    });
    recordResult({
      scenario: `${REDEPLOYS} redeploys + ${REMOVALS} removals/re-adds (all four nodes)`,
      sent: figures.roundTrips,
      received: figures.roundTrips,
      lost: 0,
      duplicated: 'n/a',
      recoverMs: `slowest deploy ${(figures.slowestDeployMs / 1000).toFixed(1)} s`,
      notes: `${figures.rounds} rounds in ${(figures.elapsedMs / 1000).toFixed(0)} s; before: ${describeCounts(figures.before)}; after: ${describeCounts(figures.after)}; peak broker sockets ${figures.peakBrokerSockets}; group members peak ${figures.peakGroupMembers}, at end ${figures.groupMembersAtEnd}`,
    });
    assert.deepEqual(figures.caughtErrors, [], 'no error reached Catch');
    assert.equal(figures.after.brokerSockets, 0);
    assert.equal(figures.groupMembersAtEnd, 0);
    assert.ok(figures.peakGroupMembers <= 1, `group members peaked at ${figures.peakGroupMembers}`);
    assert.ok(figures.after.processListeners <= figures.before.processListeners, describeCounts(figures.after));
    assert.ok(figures.after.runtimeListeners <= figures.before.runtimeListeners, describeCounts(figures.after));
    // Pooled HTTP connections to the emulators and Node-RED's own timers may differ by a few; a leak grows with the rounds.
    assert.ok((figures.after.resources.Timeout ?? 0) <= (figures.before.resources.Timeout ?? 0) + 3, describeCounts(figures.after));
    assert.ok((figures.after.resources.TCPSocketWrap ?? 0) <= (figures.before.resources.TCPSocketWrap ?? 0) + 4, describeCounts(figures.after));
  });
});
