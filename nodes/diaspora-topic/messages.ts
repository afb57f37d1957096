/**
 * English texts of diaspora-topic, keyed as in `locales/en-US/diaspora-topic.json` (under
 * `diaspora-topic.`); used when the catalog lacks a key.
 */
export const TOPIC_MESSAGES: Readonly<Record<string, string>> = {
  'status.no-config': 'no configuration',
  'status.registered': 'registered',
  'status.unregistered': 'unregistered',
  'status.no-change': 'no change',
  'status.listed': '__count__ topics',
  'status.failed': 'failed',
  'result.listed': '__count__ topic(s) registered to this identity',
  'errors.no-config': 'no diaspora-config node selected: choose one in the "Fabric" field of this node',
  'errors.bad-action': 'unknown action "__action__": use register, unregister, list, or msg (take msg.action)',
  'errors.bad-msg-action': 'msg.action is __action__: set it to "register", "unregister" or "list"',
  'errors.no-topic': 'no topic: set the topic on the node or in msg.topic',
};
