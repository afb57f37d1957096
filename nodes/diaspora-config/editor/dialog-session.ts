/** The open config dialog's view of the runtime session: its state and its nodes' spools, polled, and the sign-in, sign-out and new-key buttons. */
import { admin, failureText, type SessionStateView } from '../../shared/editor/admin-client';
import type { Translate } from '../../shared/editor/i18n';
import { identityText, keyAge } from '../../shared/editor/session-text';
import { renderSpools } from './spool-list';

const STATE_POLL_MS = 2000;

const STATE_CLASS: Readonly<Record<string, string>> = {
  ready: 'diaspora-config-state-ready',
  error: 'diaspora-config-state-error',
  'signin-required': 'diaspora-config-state-busy',
  'creating-key': 'diaspora-config-state-busy',
  'waiting-key': 'diaspora-config-state-busy',
  starting: 'diaspora-config-state-busy',
};

const isHttpUrl = (text: unknown): text is string => typeof text === 'string' && /^https?:\/\//i.test(text);

export class DialogSession {
  private timer: ReturnType<typeof setInterval> | null = null;
  private inFlight = false;
  private spoolsInFlight = false;
  private state: SessionStateView | null = null;
  private problem = '';

  constructor(
    private readonly nodeId: string,
    private readonly t: Translate,
  ) {}

  start(): void {
    this.poll();
    this.timer = setInterval(() => {
      if (!$('#diaspora-config-state').length) {
        this.stop(); // the dialog went away without a save/cancel/delete callback
        return;
      }
      this.poll();
    }, STATE_POLL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  poll(): void {
    if (this.inFlight) return;
    this.inFlight = true;
    admin
      .state(this.nodeId)
      .then(
        (state) => {
          this.state = state;
          this.render('');
        },
        (err: unknown) => {
          this.state = null;
          this.render(failureText(err));
        },
      )
      .finally(() => {
        this.inFlight = false;
      });
    if (this.spoolsInFlight) return;
    this.spoolsInFlight = true;
    admin
      .spools(this.nodeId)
      .then(
        (spools) => renderSpools(this.t, spools),
        // The state row already says why (e.g. not deployed yet).
        () => renderSpools(this.t, null),
      )
      .finally(() => {
        this.spoolsInFlight = false;
      });
  }

  render(problem?: string): void {
    const t = this.t;
    if (problem !== undefined) this.problem = problem;
    const state = this.state;
    const userMode = $('#node-config-input-authMode').val() === 'user';
    $('#diaspora-config-signin').toggle(userMode);
    const el = $('#diaspora-config-state');
    el.removeClass('diaspora-config-state-ready diaspora-config-state-busy diaspora-config-state-error diaspora-config-state-unknown');
    if (!state) {
      el.addClass('diaspora-config-state-unknown');
      $('#diaspora-config-state-text').text(this.problem);
      $('#diaspora-config-identity').text('');
      $('#diaspora-config-key-age').text('');
      $('#diaspora-config-signin, #diaspora-config-newkey, #diaspora-config-signout').prop('disabled', true);
      $('#diaspora-config-signout').hide();
      return;
    }
    el.addClass(STATE_CLASS[state.state] ?? 'diaspora-config-state-unknown');
    $('#diaspora-config-state-text').text(this.stateText(state));
    $('#diaspora-config-identity').text(identityText(t, state));
    const age = this.formatAge(state.keyCreatedAt);
    $('#diaspora-config-key-age').text(age || t('diaspora-config.age.none'));
    const signedIn = !!state.sub;
    $('#diaspora-config-signin').prop('disabled', false);
    $('#diaspora-config-signout').prop('disabled', !signedIn).toggle(userMode && signedIn);
    $('#diaspora-config-newkey').prop('disabled', !signedIn || state.state === 'creating-key');
  }

  showMessage(text: string, isError: boolean): void {
    $('#diaspora-config-message').text(text).toggleClass('diaspora-config-error', isError);
    $('#diaspora-config-message-row').toggle(!!text);
  }

  /** Wires the identity tab's buttons; `api()` is the API version the dialog shows. */
  bindButtons(api: () => string): void {
    const on = (selector: string, action: () => void): void => {
      $(selector).on('click', (evt) => {
        evt.preventDefault();
        action();
      });
    };
    on('#diaspora-config-signin', () => this.signIn());
    on('#diaspora-config-finish', () => this.finishSignIn());
    $('#diaspora-config-code').on('keydown', (evt) => {
      if (evt.key === 'Enter') {
        evt.preventDefault();
        this.finishSignIn();
      }
    });
    on('#diaspora-config-signout', () => this.signOut());
    on('#diaspora-config-newkey', () => this.newKey(api()));
  }

  private stateText(state: SessionStateView): string {
    const t = this.t;
    if (state.state === 'waiting-key') return t('diaspora-config.state.waiting-key', { seconds: state.waitingSeconds || 0 });
    if (state.state === 'error') {
      const reason = state.reason ? t(`diaspora-config.status.reason.${state.reason}`) : t('diaspora-config.status.error');
      const text = t('diaspora-config.state.error', { reason });
      return state.message ? `${text} ${state.message}` : text;
    }
    if (STATE_CLASS[state.state]) return t(`diaspora-config.state.${state.state}`);
    return String(state.state || '');
  }

  private formatAge(iso: string | undefined): string {
    const age = keyAge(this.t, iso);
    return age ? this.t('diaspora-config.age.created', { age, date: new Date(Date.parse(iso!)).toLocaleString() }) : '';
  }

  private signIn(): void {
    // Open the window inside the click, before the request, so pop-up blockers let it through.
    const popup = window.open('', '_blank');
    this.showMessage('', false);
    admin.signInStart(this.nodeId).then(
      (answer) => {
        if (!isHttpUrl(answer.authorizeUrl)) {
          popup?.close();
          this.showMessage(this.t('diaspora-config.errors.bad-answer'), true);
          return;
        }
        $('#diaspora-config-authorize-link').attr('href', answer.authorizeUrl);
        $('.diaspora-config-code-row').show();
        $('#diaspora-config-code').val('').trigger('focus');
        if (popup) {
          popup.opener = null;
          popup.location.href = answer.authorizeUrl;
        } else {
          this.showMessage(this.t('diaspora-config.tip.popup-blocked'), false);
        }
      },
      (err: unknown) => {
        popup?.close();
        this.showMessage(failureText(err), true);
      },
    );
  }

  private finishSignIn(): void {
    const code = String($('#diaspora-config-code').val() ?? '').trim();
    if (!code) {
      this.showMessage(this.t('diaspora-config.errors.no-code'), true);
      return;
    }
    $('#diaspora-config-finish').prop('disabled', true);
    admin
      .signInFinish(this.nodeId, code)
      .then(
        (answer) => {
          $('#diaspora-config-code').val('');
          $('.diaspora-config-code-row').hide();
          this.showMessage(this.t('diaspora-config.tip.signed-in', { who: String(answer.username || answer.sub || '') }), false);
          this.poll();
        },
        (err: unknown) => this.showMessage(failureText(err), true),
      )
      .finally(() => $('#diaspora-config-finish').prop('disabled', false));
  }

  private signOut(): void {
    this.showMessage('', false);
    admin.signOut(this.nodeId).then(
      () => {
        this.showMessage(this.t('diaspora-config.tip.signed-out'), false);
        this.poll();
      },
      (err: unknown) => this.showMessage(failureText(err), true),
    );
  }

  private newKey(api: string): void {
    const t = this.t;
    const warning = api === 'v1' ? t('diaspora-config.confirm.newkey-v1') : t('diaspora-config.confirm.newkey-v3');
    const notification = RED.notify($('<div>').append($('<p>').text(warning)), {
      modal: true,
      fixed: true,
      type: 'warning',
      buttons: [
        { text: t('diaspora-config.button.cancel'), click: () => notification.close() },
        {
          text: t('diaspora-config.button.newkey'),
          class: 'primary',
          click: () => {
            notification.close();
            this.showMessage('', false);
            admin.newKey(this.nodeId).then(
              () => {
                this.showMessage(t('diaspora-config.tip.newkey-started'), false);
                this.poll();
              },
              (err: unknown) => this.showMessage(failureText(err), true),
            );
          },
        },
      ],
    } as never) as unknown as { close(): void };
  }
}
