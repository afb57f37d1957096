import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { mskIamToken } from '../../../lib/kafka/msk-iam';

const ACCESS_KEY = 'AKIAH3AEXAMPLE000001';
const SECRET_KEY = 'h3a/Secret+Key/For/Tests/Only/0123456789';
const NOW = new Date('2024-01-26T13:14:15.678Z');
const HOST = 'kafka.us-east-1.amazonaws.com';

function decode(token: string): URL {
  return new URL(Buffer.from(token, 'base64url').toString('utf8'));
}

/** RFC 3986 encoding, as SigV4's canonical query string requires. */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();
const sha256Hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');

/** SigV4 computed by hand from the spec, independently of the signer under test. */
function expectedSignature(params: URLSearchParams, secretKey: string): string {
  const date = params.get('X-Amz-Date') as string;
  const day = date.slice(0, 8);
  const scope = `${day}/us-east-1/kafka-cluster/aws4_request`;
  const signedParams = [...params.entries()]
    .filter(([k]) => k !== 'X-Amz-Signature' && k !== 'User-Agent')
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = ['GET', '/', signedParams, `host:${HOST}`, '', 'host', sha256Hex('')].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256Hex(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${secretKey}`, day);
  const kRegion = hmac(kDate, 'us-east-1');
  const kService = hmac(kRegion, 'kafka-cluster');
  const kSigning = hmac(kService, 'aws4_request');
  return createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex');
}

describe('lib/msk-iam: MSK IAM OAUTHBEARER token', () => {
  it('is a base64url (no padding) presigned kafka-cluster:Connect URL in the Python SDK format', async () => {
    const { token, expiresAt } = await mskIamToken({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY, now: NOW });
    assert.match(token, /^[A-Za-z0-9_-]+$/, 'base64url alphabet, no "=" padding');
    const url = decode(token);
    assert.equal(url.protocol, 'https:');
    assert.equal(url.host, HOST);
    assert.equal(url.pathname, '/');
    const q = url.searchParams;
    assert.equal(q.get('Action'), 'kafka-cluster:Connect');
    assert.equal(q.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
    assert.equal(q.get('X-Amz-Credential'), `${ACCESS_KEY}/20240126/us-east-1/kafka-cluster/aws4_request`);
    assert.equal(q.get('X-Amz-Date'), '20240126T131415Z');
    assert.equal(q.get('X-Amz-Expires'), '900');
    assert.equal(q.get('X-Amz-SignedHeaders'), 'host');
    assert.match(q.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/);
    assert.equal(q.get('X-Amz-Security-Token'), null, 'static IAM user keys carry no session token');
    const names = [...q.keys()];
    assert.equal(names[names.length - 1], 'User-Agent', 'User-Agent is appended after signing');
    assert.ok((q.get('User-Agent') ?? '').length > 0);
    assert.equal(expiresAt, Date.parse('2024-01-26T13:14:15Z') + 900_000);
    assert.ok(!Buffer.from(token, 'base64url').toString('utf8').includes(SECRET_KEY), 'the secret never travels');
  });

  it('carries the SigV4 signature computed independently from the spec', async () => {
    const { token } = await mskIamToken({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY, now: NOW });
    const q = decode(token).searchParams;
    assert.equal(q.get('X-Amz-Signature'), expectedSignature(q, SECRET_KEY));
    // The known answer must depend on the secret: a wrong secret gives another signature.
    assert.notEqual(q.get('X-Amz-Signature'), expectedSignature(q, `${SECRET_KEY}x`));
  });

  it('is deterministic for the same key and clock, and changes with either', async () => {
    const a = await mskIamToken({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY, now: NOW });
    const b = await mskIamToken({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY, now: new Date(NOW) });
    assert.equal(a.token, b.token);
    const later = await mskIamToken({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY, now: new Date(NOW.getTime() + 1000) });
    assert.notEqual(later.token, a.token);
    const otherSecret = await mskIamToken({ accessKey: ACCESS_KEY, secretKey: `${SECRET_KEY}x`, now: NOW });
    assert.notEqual(otherSecret.token, a.token);
  });

  it('signs for another region when asked', async () => {
    const { token } = await mskIamToken({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY, region: 'eu-west-1', now: NOW });
    const url = decode(token);
    assert.equal(url.host, 'kafka.eu-west-1.amazonaws.com');
    assert.equal(url.searchParams.get('X-Amz-Credential'), `${ACCESS_KEY}/20240126/eu-west-1/kafka-cluster/aws4_request`);
  });

  it('uses the current time by default', async () => {
    const before = Date.now();
    const { expiresAt } = await mskIamToken({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
    assert.ok(expiresAt >= Math.floor(before / 1000) * 1000 + 900_000 && expiresAt <= Date.now() + 900_000);
  });

  it('refuses a missing key or a bad region with a clear error that holds no secret', async () => {
    await assert.rejects(mskIamToken({ accessKey: '', secretKey: SECRET_KEY }), (err: Error) => {
      assert.match(err.message, /access key and secret key/);
      assert.ok(!err.message.includes(SECRET_KEY));
      return true;
    });
    await assert.rejects(mskIamToken({ accessKey: ACCESS_KEY, secretKey: '' }), /create a key first/);
    await assert.rejects(mskIamToken({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY, region: 'US East' }), /not an AWS region/);
  });
});
