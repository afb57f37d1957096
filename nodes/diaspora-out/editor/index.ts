/** diaspora-out's editor: bundled into diaspora-out.html at build time (scripts/build-editor.js). */
import { editorDefaults, fieldPrefix, showDefaultsForMissing } from '../../shared/editor/definition';
import { translator } from '../../shared/editor/i18n';
import { pickerSlot } from '../../shared/editor/topic-picker';
import { OUT_SCHEMA } from '../schema';

const TYPE = 'diaspora-out';
const PREFIX = fieldPrefix(false);
const t = translator(TYPE);
const picker = pickerSlot();

RED.nodes.registerType('diaspora-out', {
  category: 'Diaspora',
  color: '#8BB5E0',
  defaults: editorDefaults(TYPE, OUT_SCHEMA, t, PREFIX),
  inputs: 1,
  outputs: 1,
  icon: 'diaspora-out.svg',
  align: 'right',
  paletteLabel: () => t('diaspora-out.paletteLabel'),
  label() {
    return String(this.name || this.topic || t('diaspora-out.paletteLabel'));
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  inputLabels: () => t('diaspora-out.inputLabel'),
  outputLabels: () => t('diaspora-out.outputLabel'),
  oneditprepare() {
    showDefaultsForMissing(this, OUT_SCHEMA, PREFIX);
    picker.open({ input: $('#node-input-topic'), fabricSelect: $('#node-input-fabric'), multiple: false });
    ($('#node-input-queueSize') as JQuery & { spinner(options: object): void }).spinner({ min: 0 });
    ($('#node-input-spoolSizeMB') as JQuery & { spinner(options: object): void }).spinner({ min: 1 });
    $('#node-input-mode').on('change', function () {
      $('#node-input-outputs').val($(this).val() === 'fire' ? 0 : 1);
    });
    $('#node-input-whenNotReady').on('change', function () {
      $('#diaspora-out-queue-row').toggle($(this).val() === 'queue');
      $('#diaspora-out-spool-row').toggle($(this).val() === 'spool');
    });
  },
  oneditsave() {
    // 1 output in ack mode (the acknowledged msg), none in fire-and-forget mode.
    $('#node-input-outputs').val($('#node-input-mode').val() === 'fire' ? 0 : 1);
    picker.close();
  },
  oneditcancel: picker.close,
  oneditdelete: picker.close,
});
