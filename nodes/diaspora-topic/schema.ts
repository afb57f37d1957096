/** diaspora-topic's properties. A new property is added here and as a field in diaspora-topic.html. */
import { CONFIG_TYPE } from '../diaspora-config/schema';
import { optionalTopic, type Schema } from '../shared/schema';

/** `msg` takes the action from msg.action. */
export const TOPIC_ACTIONS = ['register', 'unregister', 'list', 'msg'] as const;

export const TOPIC_SCHEMA: Schema = {
  name: { value: '' },
  fabric: { value: '', required: true, configType: CONFIG_TYPE },
  action: { value: 'register', required: true, options: TOPIC_ACTIONS },
  topic: { value: '', check: optionalTopic },
};
