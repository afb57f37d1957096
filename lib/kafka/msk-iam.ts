/**
 * AWS MSK IAM token for SASL/OAUTHBEARER, as the Python SDK builds it: a SigV4 query-presigned
 * GET of https://kafka.<region>.amazonaws.com/?Action=kafka-cluster:Connect (service
 * kafka-cluster, 900 s), User-Agent appended after signing, base64url without padding.
 *
 * Signed with the two building blocks `aws-msk-iam-sasl-signer-js` itself uses (@smithy/signature-v4
 * with @aws-crypto/sha256-js), depended on directly: the signer's own entry point reads credentials
 * from AWS provider chains (pulling in the AWS SDK) and the clock from Date.now(), while we sign with
 * the Diaspora key and need a settable clock for tests.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export const MSK_SIGNING_SERVICE = 'kafka-cluster';
export const MSK_TOKEN_LIFETIME_S = 900;
/** The user agent of the signer package (version 1.0.3), a value MSK brokers are known to accept. */
const USER_AGENT = 'aws-msk-iam-sasl-signer-js/1.0.3';

export interface MskIamTokenOptions {
  accessKey: string;
  /** Secret: never logged. */
  secretKey: string;
  /** Production is us-east-1, the only region the Python SDK signs for. */
  region?: string;
  /** Signing time; default now. */
  now?: Date;
}

export interface MskIamToken {
  token: string;
  /** Epoch milliseconds: signing time + 900 s. */
  expiresAt: number;
}

export async function mskIamToken(opts: MskIamTokenOptions): Promise<MskIamToken> {
  const region = opts.region ?? 'us-east-1';
  if (!opts.accessKey || !opts.secretKey) {
    throw new Error('Cannot sign an MSK IAM token without the Diaspora access key and secret key: create a key first.');
  }
  if (!/^[a-z0-9-]+$/.test(region)) {
    throw new Error(`"${region}" is not an AWS region name (e.g. us-east-1).`);
  }
  const now = opts.now ?? new Date();
  if (Number.isNaN(now.getTime())) throw new Error('MSK IAM token signing time is not a valid date.');
  const hostname = `kafka.${region}.amazonaws.com`;

  const signer = new SignatureV4({
    service: MSK_SIGNING_SERVICE,
    region,
    credentials: { accessKeyId: opts.accessKey, secretAccessKey: opts.secretKey },
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      headers: { host: hostname },
      query: { Action: 'kafka-cluster:Connect' },
    },
    { signingDate: now, expiresIn: MSK_TOKEN_LIFETIME_S },
  );

  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(signed.query ?? {})) {
    if (typeof value === 'string') query.append(name, value);
  }
  query.append('User-Agent', USER_AGENT);
  const url = `https://${hostname}/?${query.toString()}`;
  return {
    token: Buffer.from(url, 'utf8').toString('base64url'),
    expiresAt: Math.floor(now.getTime() / 1000) * 1000 + MSK_TOKEN_LIFETIME_S * 1000,
  };
}
