/**
 * The registered-topic picker of diaspora-topic, diaspora-out and diaspora-in: a list button,
 * completion while typing, and a warning row with a Register button when a chosen topic is not
 * registered to the selected configuration's identity.
 */
import { splitList } from '../../../lib/kafka/names';
import { CONFIG_TYPE } from '../../diaspora-config/schema';
import { admin, asFailure, failureText } from './admin-client';
import { translator } from './i18n';

const t = translator(CONFIG_TYPE);
/** How long a configuration's topic list is reused before it is asked for again. */
const TOPIC_CACHE_MS = 5000;
const TYPING_PAUSE_MS = 250;

export interface PickerOptions {
  input: JQuery;
  fabricSelect: JQuery;
  /** A comma-separated list (diaspora-in) rather than one topic. */
  multiple: boolean;
  /** False while the topic field does not apply (diaspora-topic's list action). */
  isActive?: () => boolean;
}

export interface Picker {
  refresh(): void;
  destroy(): void;
}

/** Node-RED's jQuery plugin for completion (not in @types/node-red). */
type AutoCompleteInput = JQuery & {
  autoComplete?(options: { minLength: number; search(value: string, done: (items: { value: string; label: string }[]) => void): void }): void;
};

const topicCache = new Map<string, { at: number; topics: Promise<string[]> }>();

function fetchTopics(configId: string, force: boolean): Promise<string[]> {
  const cached = topicCache.get(configId);
  if (!force && cached && Date.now() - cached.at < TOPIC_CACHE_MS) return cached.topics;
  const topics = admin.topics(configId);
  topicCache.set(configId, { at: Date.now(), topics });
  topics.catch(() => topicCache.delete(configId));
  return topics;
}

function chosenTopics(text: unknown, multiple: boolean): string[] {
  const value = String(text ?? '').trim();
  if (!multiple) return value ? [value] : [];
  return splitList(value);
}

export function attachTopicPicker(options: PickerOptions): Picker {
  const { input, fabricSelect, multiple } = options;
  const isActive = options.isActive ?? (() => true);
  let known: string[] | null = null; // topics of the selected config node, null while unknown
  let pending: string | null = null; // shown instead of the check: loading, or why topics are unavailable
  let pendingIsError = false;
  let destroyed = false;

  input.css('width', 'calc(70% - 40px)');
  const listButton = $('<button type="button" class="red-ui-button diaspora-picker-button" style="margin-left: 4px;"><i class="fa fa-list-ul"></i></button>')
    .attr('title', t('diaspora-config.picker.choose'))
    .insertAfter(input);
  const hintRow = $(
    '<div class="form-row diaspora-picker-hint" style="display: none;"><label></label><div class="form-tips"><span class="diaspora-picker-text"></span></div></div>',
  ).insertAfter(input.closest('.form-row'));
  const hintText = hintRow.find('.diaspora-picker-text');
  const registerButton = $('<button type="button" class="red-ui-button red-ui-button-small diaspora-picker-register"></button>')
    .text(t('diaspora-config.picker.register'))
    .appendTo(hintRow.find('.form-tips'));

  const configId = (): string | null => {
    const id = fabricSelect.val();
    return typeof id === 'string' && id !== '' && id !== '_ADD_' ? id : null;
  };
  const chosen = (): string[] => chosenTopics(input.val(), multiple);
  const missing = (): string[] => (known ? chosen().filter((topic) => !known?.includes(topic)) : []);

  const showHint = (text: string, withRegister = false, isError = false): void => {
    hintText.text(text).toggleClass('diaspora-config-error', isError);
    registerButton.toggle(withRegister);
    hintRow.toggle(!!text);
  };

  const evaluate = (): void => {
    if (destroyed) return;
    if (!isActive() || !configId()) showHint('');
    else if (pending) showHint(pending, false, pendingIsError);
    else if (!known) showHint('');
    else {
      const absent = missing();
      if (absent.length === 0) showHint('');
      else showHint(t('diaspora-config.picker.not-registered', { topics: absent.join(', ') }), true);
    }
  };

  /** The selected configuration's topics; undefined when there are none to show (the hint says why). */
  const load = async (force: boolean): Promise<string[] | undefined> => {
    const id = configId();
    known = null;
    if (!id) {
      pending = null;
      evaluate();
      return undefined;
    }
    pending = t('diaspora-config.picker.loading');
    pendingIsError = false;
    evaluate();
    try {
      const topics = await fetchTopics(id, force);
      if (id === configId()) {
        known = topics;
        pending = null;
        evaluate();
      }
      return topics;
    } catch (err) {
      if (id === configId()) {
        const failure = asFailure(err);
        pendingIsError = failure.status !== 404;
        pending = pendingIsError ? t('diaspora-config.picker.unavailable', { message: failure.message }) : t('diaspora-config.picker.deploy-first');
        evaluate();
      }
      return undefined;
    }
  };

  /** The value after picking `topic`: replaces a single topic, appends to a list. */
  const withPicked = (topic: string, prefixOnly: boolean): string => {
    if (!multiple) return topic;
    const parts = String(input.val() ?? '').split(',');
    if (prefixOnly) parts.pop();
    const kept = parts.map((s) => s.trim()).filter((s) => s && s !== topic);
    kept.push(topic);
    return kept.join(', ');
  };

  const completing = input as AutoCompleteInput;
  if (typeof completing.autoComplete === 'function') {
    completing.autoComplete({
      minLength: 0,
      search(value, done) {
        const parts = String(value ?? '').split(',');
        const fragment = (multiple ? (parts[parts.length - 1] ?? '') : value).trim().toLowerCase();
        done((known ?? []).filter((topic) => topic.toLowerCase().includes(fragment)).map((topic) => ({ value: withPicked(topic, true), label: topic })));
      },
    });
  }

  listButton.on('click', (evt) => {
    evt.preventDefault();
    void load(true).then((topics) => {
      if (!topics) return;
      const items = topics.length ? topics.map((topic) => ({ label: topic, value: topic as string | null })) : [{ label: t('diaspora-config.picker.none'), value: null }];
      RED.popover
        .menu({
          options: items,
          width: input.outerWidth(),
          maxHeight: 200,
          class: 'diaspora-picker-menu',
          onselect(item: { value: string | null }) {
            if (item.value !== null) input.val(withPicked(item.value, false)).trigger('change');
          },
        } as unknown as Parameters<typeof RED.popover.menu>[0])
        .show({ target: input, align: 'right' } as never);
    });
  });

  registerButton.on('click', (evt) => {
    evt.preventDefault();
    const id = configId();
    const absent = missing();
    if (!id || absent.length === 0) return;
    registerButton.prop('disabled', true);
    void (async () => {
      const failures: string[] = [];
      for (const topic of absent) {
        try {
          const answer = await admin.registerTopic(id, topic);
          if (answer.status !== 'success' && answer.status !== 'no-op') failures.push(`${topic}: ${answer.message || answer.reason || answer.status}`);
        } catch (err) {
          failures.push(`${topic}: ${failureText(err)}`);
        }
      }
      registerButton.prop('disabled', false);
      if (failures.length) RED.notify(t('diaspora-config.picker.register-failed', { reason: failures.join('; ') }), { type: 'error', timeout: 8000 });
      else RED.notify(t('diaspora-config.picker.registered', { topics: absent.join(', ') }), { type: 'success', timeout: 3000 });
      await load(true);
    })();
  });

  let typingTimer: ReturnType<typeof setTimeout> | undefined;
  input.on('change.diaspora-picker keyup.diaspora-picker', () => {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(evaluate, TYPING_PAUSE_MS);
  });
  fabricSelect.on('change.diaspora-picker', () => void load(false));
  void load(false);

  return {
    refresh: evaluate,
    destroy() {
      destroyed = true;
      clearTimeout(typingTimer);
      input.off('.diaspora-picker');
      fabricSelect.off('.diaspora-picker');
    },
  };
}

/** The one picker a flow node's open dialog has; closing the dialog (save, cancel, delete) removes it. */
export function pickerSlot(): { open(options: PickerOptions): Picker; close(): void } {
  let active: Picker | null = null;
  const close = (): void => {
    active?.destroy();
    active = null;
  };
  return {
    open(options) {
      close();
      active = attachTopicPicker(options);
      return active;
    },
    close,
  };
}
