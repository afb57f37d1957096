/** The emulator's HTML pages: sign-in form, the auth-code page, and authorize errors. Stable ids for drivers. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} | Globus Auth emulator</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; color: #1d2733; }
h1 { font-size: 1.4rem; } .note { color: #5a6470; font-size: 0.9rem; }
label { display: block; margin-top: 0.8rem; } input[type=text], input[type=password] { width: 100%; padding: 0.4rem; }
button { margin-top: 1rem; padding: 0.5rem 1.2rem; } .error { color: #b00020; }
#auth-code { display: block; font-size: 1.2rem; padding: 0.8rem; background: #eef2f6; word-break: break-all; user-select: all; }
</style>
</head>
<body>
${body}
</body>
</html>
`;
}

export interface LoginPageInput {
  /** The authorization request, carried through the form as hidden fields. */
  request: Record<string, string>;
  usernames: string[];
  error?: string;
  username?: string;
}

export function loginPage(input: LoginPageInput): string {
  const hidden = Object.entries(input.request)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  const error = input.error ? `<p id="error" class="error" role="alert">${escapeHtml(input.error)}</p>` : '';
  return page(
    'Sign in',
    `<h1>Sign in to the Diaspora local fabric</h1>
<p class="note">This is the local Globus Auth emulator. Test users: ${input.usernames.map(escapeHtml).join(', ')}.</p>
${error}
<form id="login-form" method="post" action="/v2/oauth2/authorize">
${hidden}
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" value="${escapeHtml(input.username ?? '')}" required>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" id="sign-in">Sign in</button>
</form>`,
  );
}

/** Like Globus's /v2/web/auth-code page: the code to paste into the application. */
export function authCodePage(code: string): string {
  return page(
    'Authorization code',
    `<h1>Native App Authorization Code</h1>
<p>Copy this code and paste it into the application that asked you to sign in:</p>
<code id="auth-code">${escapeHtml(code)}</code>
<p class="note">The code works once and expires in a few minutes.</p>`,
  );
}

export function errorPage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p id="error" class="error" role="alert">${escapeHtml(message)}</p>`);
}
