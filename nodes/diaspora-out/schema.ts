/** diaspora-out's properties. A new property is added here, as a field in diaspora-out.html and in settings.ts. */
import { CONFIG_TYPE } from '../diaspora-config/schema';
import { isPositiveNumber, isWholeNumber, optionalTopic, type Schema } from '../shared/schema';

export const OUT_MODES = ['ack', 'fire'] as const;
export const ACKS_SETTINGS = ['all', 'leader', 'none'] as const;
export const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4'] as const;
export const WHEN_NOT_READY = ['queue', 'fail', 'spool'] as const;

export const OUT_SCHEMA: Schema = {
  name: { value: '' },
  fabric: { value: '', required: true, configType: CONFIG_TYPE },
  /** Empty: msg.topic. */
  topic: { value: '', check: optionalTopic },
  /** Empty: msg.key. */
  key: { value: '' },
  mode: { value: 'ack', required: true, options: OUT_MODES },
  acks: { value: 'all', required: true, options: ACKS_SETTINGS },
  compression: { value: 'none', required: true, options: COMPRESSIONS },
  whenNotReady: { value: 'queue', required: true, options: WHEN_NOT_READY },
  queueSize: { value: 1000, required: true, check: (v) => (isWholeNumber(v) ? undefined : { code: 'invalid-queue-size' }) },
  /** Spool mode: the most the node's spool on disk may hold, in MiB. */
  spoolSizeMB: { value: 100, required: true, check: (v) => (isPositiveNumber(v) ? undefined : { code: 'invalid-spool-size' }) },
  /** 1 output in ack mode (the acknowledged msg), none in fire-and-forget mode. */
  outputs: { value: 1 },
};
