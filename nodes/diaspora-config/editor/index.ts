/** diaspora-config's editor: bundled into diaspora-config.html at build time (scripts/build-editor.js). */
import { PRODUCTION_AUTH_URL, PRODUCTION_SERVICE_URL, SDK_NATIVE_CLIENT_ID } from '../../../lib/globus/constants';
import { admin, failureText, type FabricPreset } from '../../shared/editor/admin-client';
import { editorCredentials, editorDefaults, fieldPrefix, showDefaultsForMissing } from '../../shared/editor/definition';
import { translator } from '../../shared/editor/i18n';
import { CONFIG_CREDENTIALS, CONFIG_SCHEMA, CONFIG_TYPE } from '../schema';
import { DialogSession } from './dialog-session';

const PREFIX = fieldPrefix(true);
const t = translator(CONFIG_TYPE);

/** The fields the Production and Local presets own; Custom leaves them editable. */
const PRESET_FIELDS = ['api', 'serviceUrl', 'authUrl', 'brokers', 'kafkaAuth', 'tls'];

/** The one diaspora-config dialog that can be open, for cleanup. */
let openDialog: DialogSession | null = null;

const field = (name: string): JQuery => $(`#${PREFIX}${name}`);

function lockPresetFields(locked: boolean): void {
  for (const name of PRESET_FIELDS) {
    const el = field(name);
    if (el.is('select') || el.is(':checkbox')) el.prop('disabled', locked);
    else el.prop('readonly', locked);
  }
}

function setField(name: string, value: string | boolean): void {
  const el = field(name);
  if (el.is(':checkbox')) el.prop('checked', !!value).trigger('change');
  else el.val(String(value)).trigger('change');
}

function applyProduction(): void {
  setField('api', 'v3');
  setField('serviceUrl', PRODUCTION_SERVICE_URL);
  setField('authUrl', PRODUCTION_AUTH_URL);
  setField('brokers', '');
  setField('kafkaAuth', 'msk-iam');
  setField('tls', true);
  if (field('authMode').val() === 'user') setField('clientId', SDK_NATIVE_CLIENT_ID);
}

function applyLocal(preset: FabricPreset): void {
  setField('api', field('transport').val() === 'https' ? 'v3' : 'v1');
  setField('serviceUrl', preset.serviceUrl || '');
  setField('authUrl', preset.authUrl || '');
  setField('brokers', (Array.isArray(preset.brokers) ? preset.brokers : []).join(', '));
  setField('kafkaAuth', 'scram-sha-512');
  setField('tls', false);
  const clients = Array.isArray(preset.clients) ? preset.clients : [];
  if (field('authMode').val() === 'user') {
    setField('clientId', preset.clientId || SDK_NATIVE_CLIENT_ID);
  } else if (clients.length && clients.every((c) => c.clientId !== field('clientId').val())) {
    setField('clientId', clients[0]?.clientId ?? '');
  }
}

function showLocalHint(preset: FabricPreset): void {
  const datalist = $('#diaspora-config-client-ids').empty();
  for (const c of preset.clients ?? []) $('<option>').attr('value', c.clientId).appendTo(datalist);
  const users = (preset.users ?? []).map((u) => u.username).join(', ');
  $('#diaspora-config-preset-hint').removeClass('diaspora-config-error').text(t('diaspora-config.tip.local', { users: users || '-' }));
  $('#diaspora-config-preset-row').show();
}

function closeDialog(): void {
  openDialog?.stop();
  openDialog = null;
}

/** Keeps the preset select and the fields it owns in step; Local asks the runtime for the running fabric. */
function watchPreset(): void {
  const preset = field('preset');
  let previous = String(preset.val());
  lockPresetFields(previous !== 'custom');
  if (previous === 'local') {
    // Offer the running fabric's clients and users, without touching the saved values.
    admin.fabricPreset().then(showLocalHint, () => undefined);
  }
  preset.on('change', () => {
    const chosen = String(preset.val());
    if (chosen === previous) return;
    $('#diaspora-config-preset-row').hide();
    if (chosen === 'production') {
      applyProduction();
      lockPresetFields(true);
      previous = chosen;
    } else if (chosen === 'custom') {
      lockPresetFields(false);
      previous = chosen;
    } else if (chosen === 'local') {
      preset.prop('disabled', true);
      admin
        .fabricPreset()
        .then(
          (fabric) => {
            applyLocal(fabric);
            showLocalHint(fabric);
            lockPresetFields(true);
            previous = chosen;
          },
          (err: unknown) => {
            preset.val(previous);
            const status = (err as { status?: number }).status;
            $('#diaspora-config-preset-hint')
              .addClass('diaspora-config-error')
              .text(status === 404 ? t('diaspora-config.errors.no-fabric') : failureText(err));
            $('#diaspora-config-preset-row').show();
          },
        )
        .finally(() => preset.prop('disabled', false));
    }
  });
}

/** Node-RED triggers 'change' on every field after oneditprepare: act only on real changes. */
function watchAuthMode(session: DialogSession): void {
  let previous = field('authMode').val();
  $('.diaspora-config-client-only').toggle(previous === 'client');
  field('authMode').on('change', function () {
    const mode = $(this).val();
    $('.diaspora-config-client-only').toggle(mode === 'client');
    if (mode === previous) return;
    previous = mode;
    const id = field('clientId');
    if (mode === 'client') {
      $('.diaspora-config-code-row').hide();
      if (id.val() === SDK_NATIVE_CLIENT_ID) id.val('').trigger('change');
    } else if (!String(id.val() ?? '').trim()) {
      id.val(SDK_NATIVE_CLIENT_ID).trigger('change');
    }
    session.render();
  });
}

RED.nodes.registerType('diaspora-config', {
  category: 'config',
  color: '#8BB5E0',
  defaults: editorDefaults(CONFIG_TYPE, CONFIG_SCHEMA, t, PREFIX),
  credentials: editorCredentials(CONFIG_CREDENTIALS),
  label() {
    if (this.name) return String(this.name);
    if (this.preset === 'production' || this.preset === 'local') return t(`diaspora-config.nodeLabel.${this.preset}`);
    const host = /^https?:\/\/([^/:?#]+)/i.exec(String(this.serviceUrl ?? ''));
    return host ? t('diaspora-config.nodeLabel.custom', { host: host[1] ?? '' }) : t('diaspora-config.nodeLabel.default');
  },
  paletteLabel: () => t('diaspora-config.paletteLabel'),
  oneditprepare() {
    closeDialog();
    // Node-RED takes the list's id and passes the tab object to onchange (@types/node-red lags behind).
    const tabOptions = {
      id: 'diaspora-config-tabs',
      onchange(tab: { id: string }) {
        $('#diaspora-config-tabs-content').children().hide();
        $(`#${tab.id}`).show();
      },
    };
    const tabs = RED.tabs.create(tabOptions as unknown as Parameters<typeof RED.tabs.create>[0]);
    const addTab = tabs.addTab as (tab: { id: string; label: string }) => void;
    addTab({ id: 'diaspora-config-tab-identity', label: t('diaspora-config.tabs.identity') });
    addTab({ id: 'diaspora-config-tab-service', label: t('diaspora-config.tabs.service') });
    addTab({ id: 'diaspora-config-tab-kafka', label: t('diaspora-config.tabs.kafka') });

    showDefaultsForMissing(this, CONFIG_SCHEMA, PREFIX);
    (field('readyTimeout') as JQuery & { spinner(options: object): void }).spinner({ min: 1 });

    const session = new DialogSession(this.id, t);
    openDialog = session;
    watchAuthMode(session);
    field('tls')
      .on('change', function () {
        $('#diaspora-config-ca-row').toggle($(this).prop('checked') as boolean);
      })
      .trigger('change');
    // Over HTTPS there is no broker and no key: the Kafka tab and the key button go.
    field('transport')
      .on('change', function () {
        const kafka = $(this).val() !== 'https';
        if (!kafka) setField('api', 'v3'); // the HTTPS data plane exists in API v3 only
        $('#red-ui-tab-diaspora-config-tab-kafka').toggle(kafka);
        $('#diaspora-config-newkey').toggle(kafka);
        if (!kafka && $('#diaspora-config-tab-kafka').is(':visible')) (tabs as unknown as { activateTab(id: string): void }).activateTab('diaspora-config-tab-service');
      })
      .trigger('change');
    watchPreset();
    session.bindButtons(() => String(field('api').val()));
    if (this.changed) session.showMessage(t('diaspora-config.tip.deploy-changes'), false);
    session.start();
  },
  oneditsave: closeDialog,
  oneditcancel: closeDialog,
  oneditdelete: closeDialog,
});
