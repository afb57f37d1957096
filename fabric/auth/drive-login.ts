/**
 * The browser part of the native-app sign-in, over plain HTTP, for tests and the demo: open the
 * authorize URL, submit the emulator's sign-in form, follow the redirect and read the code from the
 * auth-code page (or from the loopback redirect URL).
 */
import { AUTH_CODE_PAGE_PATH } from '../../lib/globus/constants';

export interface NativeLoginInput {
  authorizeUrl: string | URL;
  username: string;
  password: string;
}

/** Signs in and returns the authorization code the user would copy from the auth-code page. */
export async function driveNativeLogin(input: NativeLoginInput): Promise<string> {
  const redirect = await driveNativeLoginRedirect(input);
  const code = redirect.searchParams.get('code');
  if (!code) throw new Error(`Sign-in redirected without a code to ${redirect.origin}${redirect.pathname}`);
  if (redirect.pathname !== AUTH_CODE_PAGE_PATH) return code;
  const page = await fetch(redirect, { redirect: 'manual' });
  const html = await page.text();
  const shown = /<[a-z]+\b[^>]*\bid="auth-code"[^>]*>([^<]*)</i.exec(html);
  if (page.status !== 200 || !shown) throw new Error(`The auth-code page answered ${page.status} without a code: ${pageError(html)}`);
  return decodeHtml(shown[1]).trim();
}

/**
 * Signs in and returns the URL the sign-in redirected to (redirect_uri with code and state), without
 * loading it, so the caller can hand it to openid-client's authorizationCodeGrant.
 */
export async function driveNativeLoginRedirect(input: NativeLoginInput): Promise<URL> {
  const authorizeUrl = new URL(input.authorizeUrl);
  const formPage = await fetch(authorizeUrl, { redirect: 'manual' });
  const formHtml = await formPage.text();
  if (formPage.status !== 200) throw new Error(`The authorize page answered ${formPage.status}: ${pageError(formHtml)}`);
  const form = /<form\b[^>]*\bid="login-form"[^>]*>([\s\S]*?)<\/form>/i.exec(formHtml);
  const action = form && /\baction="([^"]*)"/i.exec(form[0]);
  if (!form || !action) throw new Error('The authorize page has no sign-in form (id="login-form").');

  const fields = new URLSearchParams();
  for (const tag of form[1].matchAll(/<input\b[^>]*\btype="hidden"[^>]*>/gi)) {
    const name = /\bname="([^"]*)"/i.exec(tag[0]);
    const value = /\bvalue="([^"]*)"/i.exec(tag[0]);
    if (name) fields.append(decodeHtml(name[1]), decodeHtml(value?.[1] ?? ''));
  }
  fields.set('username', input.username);
  fields.set('password', input.password);

  const answer = await fetch(new URL(decodeHtml(action[1]), authorizeUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: fields,
    redirect: 'manual',
  });
  const location = answer.headers.get('location');
  if (answer.status !== 302 || !location) {
    throw new Error(`Sign-in as "${input.username}" failed (HTTP ${answer.status}): ${pageError(await answer.text())}`);
  }
  await answer.body?.cancel();
  const redirect = new URL(location, authorizeUrl);
  const error = redirect.searchParams.get('error');
  if (error) throw new Error(`Sign-in refused: ${error} ${redirect.searchParams.get('error_description') ?? ''}`.trim());
  return redirect;
}

function pageError(html: string): string {
  const error = /<[a-z]+\b[^>]*\bid="error"[^>]*>([^<]*)</i.exec(html);
  return error ? decodeHtml(error[1]) : 'no error message on the page';
}

function decodeHtml(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
