/**
 * English texts of diaspora-out, keyed as in `locales/en-US/diaspora-out.json` (under
 * `diaspora-out.`); used when the catalog lacks a key.
 */
export const OUT_MESSAGES: Readonly<Record<string, string>> = {
  'status.no-config': 'no configuration',
  'status.bad-config': 'bad configuration',
  'status.queued': 'queued: __count__',
  'status.live': '__rate__/s',
  'status.live-pending': '__rate__/s · __count__ ⏳',
  'errors.no-config': 'no diaspora-config node selected: choose one in the "Fabric" field of this node',
  'errors.bad-config': 'this node is misconfigured: __message__',
  'errors.not-ready': 'not ready: __state__',
  'errors.not-ready-in-time': 'not ready in time: __detail__',
  'errors.queue-full': 'queue full (__size__): the fabric is still not ready (__state__), so this message was not sent',
  'errors.closed-before-ready': 'node closed before the fabric was ready: this message was not sent',
  'errors.closed-before-ack': 'node closed before the broker acknowledged this message: it may or may not have been delivered',
  'errors.key-rejected': '__message__. If this persists, create a new key in the diaspora-config node',
  'state.waiting-key': 'waiting for the new key (__seconds__ s)',
  'state.signin-required': 'sign-in required: sign in with Globus in the diaspora-config node',
};
