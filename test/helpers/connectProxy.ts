import http from 'node:http';
import net from 'node:net';

/** One CONNECT request the proxy received. */
export interface ProxiedConnect {
  /** `host:port` asked for. */
  target: string;
  /** The `Proxy-Authorization` header as received (absent when none was sent). */
  authorization?: string;
  /** Whether the proxy opened the tunnel. */
  tunnelled: boolean;
}

/** A running loopback HTTP CONNECT proxy (tests only). */
export interface ConnectProxy {
  /** `http://[user:password@]127.0.0.1:<port>` */
  readonly url: string;
  /** `http://127.0.0.1:<port>` (no credentials). */
  readonly bareUrl: string;
  readonly connects: ProxiedConnect[];
  stop(): Promise<void>;
}

/**
 * Starts an HTTP proxy on 127.0.0.1 that only tunnels (`CONNECT host:port`), as corporate egress
 * proxies do for HTTPS. With `username`/`password`, a CONNECT without the matching Basic
 * `Proxy-Authorization` gets `407`. Every CONNECT is recorded.
 */
export async function startConnectProxy(credentials?: {
  username: string;
  password: string;
}): Promise<ConnectProxy> {
  const expected = credentials
    ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
    : undefined;
  const connects: ProxiedConnect[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => {
    res.writeHead(405, { 'Content-Type': 'text/plain' });
    res.end('this proxy only tunnels (CONNECT)');
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const authorization = req.headers['proxy-authorization'];
    const entry: ProxiedConnect = {
      target: req.url ?? '',
      tunnelled: false,
      ...(authorization ? { authorization } : {}),
    };
    connects.push(entry);
    if (expected && authorization !== expected) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    const [host, port] = splitTarget(entry.target);
    const upstream = net.connect(port, host, () => {
      entry.tunnelled = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const auth = credentials
    ? `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@`
    : '';
  return {
    url: `http://${auth}127.0.0.1:${port}`,
    bareUrl: `http://127.0.0.1:${port}`,
    connects,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function splitTarget(target: string): [string, number] {
  const i = target.lastIndexOf(':');
  return [target.slice(0, i).replace(/^\[|\]$/g, ''), Number(target.slice(i + 1))];
}
