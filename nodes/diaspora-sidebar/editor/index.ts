/**
 * The Diaspora sidebar tab: what the runtime pushes on comms topic `diaspora/live`
 * (diaspora-sidebar.ts), drawn as one card per configuration (identity, key age, readiness and
 * its last hour, owned topics with register/unregister) with a row per Diaspora node that uses
 * it (sparklines of events per second and, for consumers, of lag).
 */
import { formatRate } from '../../../lib/rate-meter';
import { CONFIG_TYPE } from '../../diaspora-config/schema';
import type { LiveSnapshot, StateChange } from '../../shared/live-snapshot';
import { admin, failureText } from '../../shared/editor/admin-client';
import { pluginTranslator, type TranslatingPlugin } from '../../shared/editor/i18n';
import { identityText, keyAge } from '../../shared/editor/session-text';

const PLUGIN = 'diaspora-sidebar';
const LIVE_TOPIC = 'diaspora/live';
const HOUR_MS = 3600 * 1000;
const STATE_COLOURS: Readonly<Record<string, string>> = {
  ready: '#5a8',
  'waiting-key': '#db5',
  'creating-key': '#db5',
  starting: '#bbb',
  'signin-required': '#db5',
  error: '#c55',
};

const plugin: TranslatingPlugin & { onadd(): void } = { onadd: () => addTab() };
const t = pluginTranslator(PLUGIN, plugin, CONFIG_TYPE);

type LiveConfig = LiveSnapshot['configs'][number];
type LiveNode = LiveSnapshot['nodes'][number];

/** A readiness state in the status's short words: `ready`, `error: broker unreachable`. */
function stateLabel(state: string, reason?: string): string {
  const text = t(`diaspora-config.status.${state}`);
  return reason ? `${text}: ${t(`diaspora-config.status.reason.${reason}`)}` : text;
}

function sparkline(values: readonly number[], colour: string, kind: 'rate' | 'lag', title: string): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const width = 120;
  const height = 22;
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('class', 'diaspora-sparkline');
  svg.setAttribute('data-kind', kind);
  const max = Math.max(1, ...values);
  const tip = document.createElementNS(ns, 'title');
  tip.textContent = title;
  svg.appendChild(tip);
  const points = values
    .map((v, i) => {
      const x = values.length > 1 ? (i * width) / (values.length - 1) : width;
      return `${x.toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`;
    })
    .join(' ');
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', points);
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', colour);
  line.setAttribute('stroke-width', '1.5');
  svg.appendChild(line);
  return svg;
}

/** The last hour as a bar, one coloured stretch per state. */
function historyBar(history: readonly StateChange[], now: number): JQuery {
  const bar = $('<div class="diaspora-history">').attr('title', t('diaspora-sidebar.history'));
  history.forEach((h, i) => {
    const from = Math.max(h.at, now - HOUR_MS);
    const to = i + 1 < history.length ? history[i + 1].at : now;
    const share = Math.max(0.5, ((to - from) / HOUR_MS) * 100);
    $('<span>')
      .css({ width: `${share}%`, background: STATE_COLOURS[h.state] ?? '#bbb' })
      .attr('title', t('diaspora-sidebar.since', { state: stateLabel(h.state, h.reason), time: new Date(h.at).toLocaleTimeString() }))
      .appendTo(bar);
  });
  return bar;
}

/** The topics the identity owns, with register and unregister; failures are said in the box. */
function showTopics(config: LiveConfig, box: JQuery): void {
  const problem = (text: string): JQuery => $('<div class="diaspora-error">').text(text);
  box.empty().append($('<div>').text(t('diaspora-sidebar.loading-topics')));
  /** Runs a register or unregister; `failed` words its failure. */
  const act = (work: () => Promise<{ status?: string; message?: string; reason?: string }>, failed: (reason: string) => string): void => {
    work().then(
      (answer) => {
        if (answer.status && answer.status !== 'success' && answer.status !== 'no-op') {
          RED.notify(failed(answer.message || answer.reason || answer.status), { type: 'error', timeout: 8000 });
        }
        showTopics(config, box);
      },
      (err: unknown) => {
        RED.notify(failed(failureText(err)), { type: 'error', timeout: 8000 });
        showTopics(config, box);
      },
    );
  };
  admin.topics(config.id).then(
    (topics) => {
      box.empty();
      const list = $('<ul class="diaspora-topics">').appendTo(box);
      if (!topics.length) list.append($('<li class="diaspora-no-topics">').text(t('diaspora-sidebar.no-topics')));
      for (const topic of topics) {
        const item = $('<li>').attr('data-topic', topic).text(`${topic} `).appendTo(list);
        $('<button class="red-ui-button red-ui-button-small diaspora-unregister">')
          .text(t('diaspora-sidebar.unregister'))
          .appendTo(item)
          .on('click', () => act(() => admin.unregisterTopic(config.id, topic), (reason) => t('diaspora-sidebar.unregister-failed', { topic, reason })));
      }
      const input = $('<input type="text" class="diaspora-new-topic">').attr('placeholder', t('diaspora-sidebar.topic-placeholder'));
      const add = $('<button class="red-ui-button red-ui-button-small diaspora-register">').text(t('diaspora-sidebar.register'));
      add.on('click', () => {
        const topic = String(input.val() ?? '').trim();
        if (topic) act(() => admin.registerTopic(config.id, topic), (reason) => t('diaspora-sidebar.register-failed', { topic, reason }));
      });
      $('<div class="diaspora-new-topic-row">').append(input, ' ', add).appendTo(box);
    },
    (err: unknown) => box.empty().append(problem(failureText(err))),
  );
}

function nodeRow(node: LiveNode): JQuery {
  const rate = formatRate(node.rate.at(-1) ?? 0);
  const lag = node.lag?.at(-1);
  const figures = lag === undefined ? t('diaspora-config.status.live-rate', { rate }) : t('diaspora-config.status.live-lag', { lag, rate });
  const row = $('<div class="diaspora-node">').attr('data-id', node.id);
  row.append($('<div>').text(`${node.name || node.type} · ${figures}`));
  row.append(sparkline(node.rate, '#3a7', 'rate', t('diaspora-sidebar.rate-chart')));
  if (node.lag) row.append(' ', sparkline(node.lag, '#c73', 'lag', t('diaspora-sidebar.lag-chart')));
  return row;
}

class SidebarView {
  readonly content = $('<div class="diaspora-sidebar">');
  /** The topic lists outlive each redraw: detached (not emptied), they keep their handlers and input. */
  private readonly topicBoxes = new Map<string, JQuery>();

  render(snapshot: LiveSnapshot | undefined): void {
    for (const box of this.topicBoxes.values()) box.detach();
    this.content.empty();
    if (!snapshot || (!snapshot.configs.length && !snapshot.nodes.length)) {
      this.content.append($('<p class="diaspora-empty">').text(t('diaspora-sidebar.empty')));
      return;
    }
    if (!snapshot.liveStatus) this.content.append($('<p class="diaspora-live-off">').text(t('diaspora-sidebar.live-off')));
    const listed = new Set(snapshot.configs.map((c) => c.id));
    for (const config of snapshot.configs) {
      this.content.append(this.card(config, snapshot));
    }
    const others = snapshot.nodes.filter((n) => !listed.has(n.fabric));
    if (others.length) this.content.append($('<div class="diaspora-config">').append(others.map(nodeRow)));
  }

  /** Without read access to the live figures (or an unreachable runtime): why, instead of an empty tab. */
  failed(reason: string): void {
    this.content.empty().append($('<p class="diaspora-error">').text(t('diaspora-sidebar.unavailable', { reason })));
  }

  private topicBox(configId: string): JQuery {
    const known = this.topicBoxes.get(configId);
    if (known) return known;
    const box = $('<div class="diaspora-topic-box">');
    this.topicBoxes.set(configId, box);
    return box;
  }

  private card(c: LiveConfig, snapshot: LiveSnapshot): JQuery {
    const card = $('<div class="diaspora-config">').attr('data-id', c.id);
    card.append($('<div class="diaspora-config-name">').text(c.name));
    card.append($('<div class="diaspora-state">').text(stateLabel(c.state, c.reason)).css('color', STATE_COLOURS[c.state] ?? 'inherit'));
    card.append($('<div class="diaspora-identity">').text(t('diaspora-sidebar.identity', { who: identityText(t, c) })));
    card.append($('<div class="diaspora-key-age">').text(t('diaspora-sidebar.key', { age: keyAge(t, c.keyCreatedAt, snapshot.at) || t('diaspora-config.age.none') })));
    card.append(historyBar(c.history, snapshot.at));
    card.append(snapshot.nodes.filter((n) => n.fabric === c.id).map(nodeRow));
    const topics = this.topicBox(c.id);
    const toggle = $('<button class="red-ui-button red-ui-button-small diaspora-show-topics">').text(t('diaspora-sidebar.topics'));
    toggle.on('click', () => showTopics(c, topics));
    card.append($('<div>').append(toggle), topics);
    return card;
  }
}

function addTab(): void {
  const view = new SidebarView();
  RED.sidebar.addTab({ id: 'diaspora', label: t('diaspora-sidebar.label'), name: t('diaspora-sidebar.name'), iconClass: 'fa fa-rss', content: view.content[0], enableOnEdit: true });
  RED.comms.subscribe(LIVE_TOPIC, (_topic, snapshot) => view.render(snapshot as LiveSnapshot));
  admin.live().then(
    (snapshot) => view.render(snapshot),
    (err: unknown) => view.failed(failureText(err)),
  );
}

RED.plugins.registerPlugin('diaspora-sidebar', plugin);
