/** diaspora-in's editor: bundled into diaspora-in.html at build time (scripts/build-editor.js). */
import { splitList } from '../../../lib/kafka/names';
import { editorDefaults, fieldPrefix, showDefaultsForMissing } from '../../shared/editor/definition';
import { translator } from '../../shared/editor/i18n';
import { pickerSlot } from '../../shared/editor/topic-picker';
import { IN_SCHEMA } from '../schema';

const TYPE = 'diaspora-in';
const PREFIX = fieldPrefix(false);
const t = translator(TYPE);
const picker = pickerSlot();

RED.nodes.registerType('diaspora-in', {
  category: 'Diaspora',
  color: '#8BB5E0',
  defaults: editorDefaults(TYPE, IN_SCHEMA, t, PREFIX),
  inputs: 1,
  outputs: 1,
  icon: 'diaspora-in.svg',
  paletteLabel: () => t('diaspora-in.paletteLabel'),
  label() {
    return String(this.name || this.topics || t('diaspora-in.paletteLabel'));
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  inputLabels: () => t('diaspora-in.inputLabel'),
  outputLabels: () => t('diaspora-in.outputLabel'),
  oneditprepare() {
    showDefaultsForMissing(this, IN_SCHEMA, PREFIX);
    picker.open({ input: $('#node-input-topics'), fabricSelect: $('#node-input-fabric'), multiple: true });
  },
  oneditsave() {
    // Store the list in one canonical form: "a, b".
    const input = $('#node-input-topics');
    input.val(splitList(String(input.val() ?? '')).join(', '));
    picker.close();
  },
  oneditcancel: picker.close,
  oneditdelete: picker.close,
});
