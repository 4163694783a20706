import type { Server } from 'node:net';

/** Starts `server` listening on `127.0.0.1` (port 0 = ephemeral) and resolves with the bound port. */
export async function listenOnLoopback(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as { port: number }).port;
}
