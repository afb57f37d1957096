/** Identifiers of the production Diaspora Event Fabric and Globus Auth (see docs/diaspora-api.md). */

/** The Diaspora web service's Globus resource server (also its confidential client id). */
export const DIASPORA_RESOURCE_SERVER = '2b9d2f5c-fa32-45b5-875b-b24cd343b917';

/** The scope every Diaspora call needs. */
export const DIASPORA_SCOPE = `https://auth.globus.org/scopes/${DIASPORA_RESOURCE_SERVER}/action_all`;

/** Globus Auth's own resource server, whose token carries `openid` (userinfo). */
export const GLOBUS_AUTH_RESOURCE_SERVER = 'auth.globus.org';

/** The Python SDK's public native-app client ("Diaspora Event Fabric (internal client)"). */
export const SDK_NATIVE_CLIENT_ID = 'c5d4fab4-7f0d-422e-b0c8-5c74329b52fe';

export const PRODUCTION_AUTH_URL = 'https://auth.globus.org';

export const PRODUCTION_SERVICE_URL =
  'https://diaspora-web-service.qpp943wkvr7b2.us-east-1.cs.amazonlightsail.com';

/** Path of the Globus page that displays an authorization code for the user to copy. */
export const AUTH_CODE_PAGE_PATH = '/v2/web/auth-code';
