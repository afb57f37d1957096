/**
 * A private CA and a broker certificate signed by it (keytool, shipped with the JDK), for the
 * broker's optional SASL_SSL listener. Clients trust `ca.pem`, as they would a custom CA.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface BrokerTls {
  /** PKCS12 keystore holding the broker's key and CA-signed certificate chain. */
  keystore: string;
  /** PEM of the CA that signed the broker certificate. */
  caFile: string;
}

async function keytool(keytoolPath: string, args: string[], input?: string): Promise<string> {
  const child = run(keytoolPath, args, { maxBuffer: 1 << 20 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    return (await child).stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    // keytool echoes neither passwords nor keys in its errors.
    throw new Error(`keytool ${args[0]} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

/** Creates the CA and broker keystore in `dir` once; later calls reuse them. */
export async function ensureBrokerTls(dir: string, password: string, keytoolPath = 'keytool'): Promise<BrokerTls> {
  const tls: BrokerTls = { keystore: path.join(dir, 'broker.p12'), caFile: path.join(dir, 'ca.pem') };
  if (fs.existsSync(tls.keystore) && fs.existsSync(tls.caFile)) return tls;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caStore = path.join(dir, 'ca.p12');
  const store = (file: string): string[] => ['-storetype', 'PKCS12', '-keystore', file, '-storepass', password];
  const common = ['-keyalg', 'RSA', '-keysize', '2048', '-validity', '3650'];

  await keytool(keytoolPath, ['-genkeypair', '-alias', 'ca', ...common, '-dname', 'CN=Diaspora local fabric CA',
    '-ext', 'bc:c', '-ext', 'KeyUsage:critical=keyCertSign,cRLSign', ...store(caStore), '-keypass', password]);
  await keytool(keytoolPath, ['-exportcert', '-rfc', '-alias', 'ca', ...store(caStore), '-file', tls.caFile]);

  await keytool(keytoolPath, ['-genkeypair', '-alias', 'broker', ...common, '-dname', 'CN=localhost',
    ...store(tls.keystore), '-keypass', password]);
  const request = await keytool(keytoolPath, ['-certreq', '-alias', 'broker', ...store(tls.keystore)]);
  const signed = await keytool(keytoolPath, ['-gencert', '-alias', 'ca', '-rfc', '-validity', '3650',
    '-ext', 'SAN=DNS:localhost,IP:127.0.0.1', '-ext', 'KeyUsage:critical=digitalSignature,keyEncipherment',
    '-ext', 'ExtendedKeyUsage=serverAuth', ...store(caStore)], request);
  const signedFile = path.join(dir, 'broker.pem');
  fs.writeFileSync(signedFile, signed);
  await keytool(keytoolPath, ['-importcert', '-noprompt', '-alias', 'ca', '-file', tls.caFile, ...store(tls.keystore)]);
  await keytool(keytoolPath, ['-importcert', '-noprompt', '-alias', 'broker', '-file', signedFile, ...store(tls.keystore)]);
  return tls;
}
