/**
 * The Node-RED private fields read by nodes/shared/node-red-internals.ts, checked on the installed
 * runtime: when a Node-RED release renames or drops one, this fails and names it.
 * (`_credentialSecret` needs a real user directory: test/nodes/diaspora-config-restart.test.ts.)
 */
import assert from 'node:assert/strict';
import type { Node, NodeAPI } from 'node-red';
import { inputHandlersTakingDone } from '../../nodes/shared/node-red-internals';
import { nodeRedHelper, type FlowNode } from '../fixtures/node-red';

function handlerShapes(RED: unknown): void {
  const red = RED as NodeAPI;
  red.nodes.registerType('takes-done', function (this: Node, def: Parameters<NodeAPI['nodes']['createNode']>[1]) {
    red.nodes.createNode(this, def);
    this.on('input', (_msg, _send, done) => done());
  });
  red.nodes.registerType('takes-msg', function (this: Node, def: Parameters<NodeAPI['nodes']['createNode']>[1]) {
    red.nodes.createNode(this, def);
    this.on('input', (msg: unknown) => void msg);
  });
}

describe('Node-RED private fields this package depends on', function () {
  const helper = nodeRedHelper();
  afterEach(() => helper.unload());

  it('_expectedDoneCount counts the input handlers that take done', async function () {
    const flow: FlowNode[] = [
      { id: 'with-done', type: 'takes-done' },
      { id: 'without-done', type: 'takes-msg' },
    ];
    await helper.load(handlerShapes, flow);
    const moved = 'Node-RED no longer keeps `_expectedDoneCount` on a node: diaspora-in cannot tell which wired nodes call done(); change nodes/shared/node-red-internals.ts';
    assert.equal(inputHandlersTakingDone(helper.getNode('with-done')), 1, moved);
    assert.equal(inputHandlersTakingDone(helper.getNode('without-done')), 0, moved);
  });
});
