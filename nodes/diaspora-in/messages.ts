/**
 * English texts of diaspora-in, keyed as in `locales/en-US/diaspora-in.json` (under
 * `diaspora-in.`); used when the catalog lacks a key.
 */
export const IN_MESSAGES: Readonly<Record<string, string>> = {
  'status.consuming': 'consuming',
  'status.paused': 'paused',
  'status.restarting': 'restarting',
  'status.instance-limit': '__limit__ consumers max',
  'status.idle': 'no topics',
  'status.failed': 'failed',
  'status.no-config': 'no configuration',
  'status.misconfigured': 'check configuration',
  'errors.no-config': 'no diaspora-config node selected: choose one in the "Fabric" field of this node',
  'errors.settings': 'invalid setting: __message__',
  'errors.bad-action': 'unknown msg.action "__action__": use pause, resume, subscribe, unsubscribe or commit',
  'errors.no-action': 'msg.action is missing: use pause, resume, subscribe, unsubscribe or commit',
  'errors.no-action-topic': 'msg.action __action__ needs msg.topic (a topic or an array of topics)',
  'errors.not-subscribed': 'not subscribed to "__topic__" (subscribed: __topics__)',
  'errors.commit-auto': "msg.action commit needs the node's Commit set to Manual",
  'errors.commit-no-offset': 'msg.action commit needs msg.diaspora of the message to commit ({topic, partition, offset})',
  'errors.commit-not-consuming': 'nothing to commit yet: the consumer has not started (__state__)',
  'errors.not-json': 'the event on __topic__ at offset __offset__ is not JSON (format is set to JSON)',
  'errors.not-registered':
    'topic "__topic__" is not registered to this identity: register it with a diaspora topic node (action register) first',
  'errors.consumer-failed': 'the consumer failed: __reason__; restarting',
  'errors.consumer-stopped': 'the consumer of __topics__ (group "__group__") could not start: __reason__',
};
