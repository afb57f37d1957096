/**
 * Stand-ins that the tests can take down: the emulators daemon serves the service and Globus Auth
 * together, so "only the service is down" or "only Globus Auth is unreachable from Node-RED" is
 * made by pointing the config node at a proxy on 127.0.0.1:0 and closing the proxy.
 */
import * as http from 'node:http';
import * as net from 'node:net';

export interface Proxy {
  url: string;
  /** Stops listening and cuts every open connection: clients then get ECONNREFUSED. */
  close(): Promise<void>;
}

async function listen(server: net.Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}

/**
 * A plain TCP forwarder to `target` (http://host:port), on a free port or on `port` (to open it
 * again where clients already point after a close).
 */
export async function tcpProxy(target: string, port = 0): Promise<Proxy> {
  const upstreamUrl = new URL(target);
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(upstreamUrl.port), upstreamUrl.hostname);
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  const listening = await listen(server, port);
  return {
    url: `http://127.0.0.1:${listening}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/**
 * An HTTP proxy to an OIDC issuer that rewrites the discovery document to name itself as the
 * issuer (openid-client insists that they match), so every later call goes through the proxy.
 * Fit for the client-credentials grant, which carries no id_token naming the real issuer.
 */
export async function oidcProxy(issuer: string): Promise<Proxy> {
  const target = new URL(issuer);
  const agent = new http.Agent({ keepAlive: false });
  let self = '';
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host }, agent },
      (answer) => {
        if (req.url?.startsWith('/.well-known/openid-configuration')) {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8').split(issuer).join(self);
            const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(body)) };
            res.writeHead(answer.statusCode ?? 502, headers).end(body);
          });
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const port = await listen(server);
  self = `http://127.0.0.1:${port}`;
  return {
    url: self,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
