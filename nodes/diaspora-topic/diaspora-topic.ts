/**
 * `diaspora-topic`: register, unregister or list topics, as the SDK's register_topic /
 * unregister_topic / list_topics. A refusal by the service ends in `done(err)` so Catch nodes see it.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import type { TopicAnswer } from '../../lib/diaspora-service/service';
import { catalog } from '../shared/catalog';
import { isDiasporaConfigNode, type DiasporaConfigNode } from '../shared/config-node';
import { noConfigStatus, problem, working } from '../shared/status';
import { whenIdentified } from './identity';
import { TOPIC_ACTIONS } from './schema';
import { readTopicSettings } from './settings';

/** Topic calls only need the Globus identity; it normally arrives within a second or two. */
const IDENTITY_TIMEOUT_MS = 30_000;
/** How long the result of the last call stays on the status before the shared state returns. */
const RESULT_STATUS_MS = 3_000;

/** The actions a message can ask for ('msg' is the node's setting that takes them from msg.action). */
type TopicAction = Exclude<(typeof TOPIC_ACTIONS)[number], 'msg'>;
const ACTIONS: readonly TopicAction[] = TOPIC_ACTIONS.filter((a): a is TopicAction => a !== 'msg');

interface DiasporaTopicDef extends NodeDef {
  fabric: string;
  action?: string;
  topic?: string;
}

/** What the node puts in `msg.payload`. */
interface TopicResult {
  status: 'success' | 'no-op';
  message: string;
  topics?: string[];
}

export = function register(RED: NodeAPI): void {
  const t = catalog(RED, 'diaspora-topic');
  const shared = catalog(RED, 'diaspora-config');

  function DiasporaTopic(this: Node, def: DiasporaTopicDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = RED.nodes.getNode(def.fabric);
    const { action: fixedAction, topic: fixedTopic } = readTopicSettings(def as unknown as Readonly<Record<string, unknown>>);

    if (!isDiasporaConfigNode(configured)) {
      node.status(noConfigStatus(shared));
      node.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => {
        done(new Error(t('errors.no-config')));
      });
      return;
    }
    const config: DiasporaConfigNode = configured;
    config.register(node);

    let resultTimer: NodeJS.Timeout | undefined;
    const showResult = (status: NodeStatus): void => {
      clearTimeout(resultTimer);
      node.status(status);
      resultTimer = setTimeout(() => {
        resultTimer = undefined;
        node.status(config.statusFor(config.session.state));
      }, RESULT_STATUS_MS);
    };

    const chooseAction = (msg: NodeMessageInFlow): TopicAction => {
      const raw = fixedAction === 'msg' ? msg.action : fixedAction;
      const action = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
      if ((ACTIONS as readonly string[]).includes(action)) return action as TopicAction;
      if (fixedAction === 'msg') throw new Error(t('errors.bad-msg-action', { action: shown(raw) }));
      throw new Error(t('errors.bad-action', { action: fixedAction }));
    };

    const chooseTopic = (msg: NodeMessageInFlow): string => {
      if (fixedTopic) return fixedTopic;
      if (typeof msg.topic === 'string' && msg.topic.trim()) return msg.topic.trim();
      throw new Error(t('errors.no-topic'));
    };

    const run = async (msg: NodeMessageInFlow): Promise<TopicResult> => {
      const action = chooseAction(msg);
      const topic = action === 'list' ? undefined : chooseTopic(msg);
      await whenIdentified(config.session, IDENTITY_TIMEOUT_MS);
      const service = await config.session.service();
      if (action === 'list') {
        const topics = await service.listTopics();
        showResult(working(t('status.listed', { count: topics.length })));
        return { status: 'success', message: t('result.listed', { count: topics.length }), topics };
      }
      const name = topic as string;
      const answer = action === 'register' ? await service.registerTopic(name) : await service.unregisterTopic(name);
      msg.topic = name;
      showResult(working(answer.status === 'no-op' ? t('status.no-change') : t(`status.${action}ed`)));
      return normalise(answer);
    };

    node.on('input', (msg: NodeMessageInFlow, send: (msg: NodeMessage) => void, done: (err?: Error) => void) => {
      run(msg).then(
        (result) => {
          msg.payload = result;
          send(msg);
          done();
        },
        (err: unknown) => {
          showResult(problem(t('status.failed')));
          done(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearTimeout(resultTimer);
      config.deregister(node);
      done();
    });
  }

  RED.nodes.registerType('diaspora-topic', DiasporaTopic as unknown as Parameters<typeof RED.nodes.registerType>[1]);
};

function normalise(answer: TopicAnswer): TopicResult {
  return {
    status: answer.status,
    message: answer.message,
    ...(Array.isArray(answer.topics) ? { topics: [...answer.topics] } : {}),
  };
}

function shown(value: unknown): string {
  if (value === undefined) return '(missing)';
  return typeof value === 'string' ? value.slice(0, 40) : typeof value;
}
