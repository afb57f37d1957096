/** diaspora-topic's editor: bundled into diaspora-topic.html at build time (scripts/build-editor.js). */
import { editorDefaults, fieldPrefix, showDefaultsForMissing } from '../../shared/editor/definition';
import { translator } from '../../shared/editor/i18n';
import { pickerSlot } from '../../shared/editor/topic-picker';
import { TOPIC_SCHEMA } from '../schema';

const TYPE = 'diaspora-topic';
const PREFIX = fieldPrefix(false);
const t = translator(TYPE);
const picker = pickerSlot();

RED.nodes.registerType('diaspora-topic', {
  category: 'Diaspora',
  color: '#8BB5E0',
  defaults: editorDefaults(TYPE, TOPIC_SCHEMA, t, PREFIX),
  inputs: 1,
  outputs: 1,
  icon: 'diaspora-topic.svg',
  paletteLabel: () => t('diaspora-topic.paletteLabel'),
  label() {
    if (this.name) return String(this.name);
    if (this.action === 'list') return t('diaspora-topic.nodeLabel.list');
    if ((this.action === 'register' || this.action === 'unregister') && this.topic) {
      return t(`diaspora-topic.nodeLabel.${this.action}`, { topic: String(this.topic) });
    }
    return t('diaspora-topic.paletteLabel');
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  inputLabels: () => t('diaspora-topic.inputLabel'),
  outputLabels: () => t('diaspora-topic.outputLabel'),
  oneditprepare() {
    showDefaultsForMissing(this, TOPIC_SCHEMA, PREFIX);
    const action = $('#node-input-action');
    const topicPicker = picker.open({
      input: $('#node-input-topic'),
      fabricSelect: $('#node-input-fabric'),
      multiple: false,
      isActive: () => action.val() !== 'list',
    });
    action.on('change', () => {
      $('#diaspora-topic-topic-row').toggle(action.val() !== 'list');
      topicPicker.refresh();
    });
  },
  oneditsave: picker.close,
  oneditcancel: picker.close,
  oneditdelete: picker.close,
});
