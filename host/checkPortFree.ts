import { createServer } from 'node:net';
import { InputError } from '../shared/errors.js';

/**
 * Fails with an {@link InputError} naming the port and the option to change it when something
 * already listens on `127.0.0.1:port`; resolves when the port is free (0 = any port: always).
 * Checked before Azurite and the simulators start, so a clash costs nothing to fix.
 */
export async function checkPortFree(port: number, option = '--port'): Promise<void> {
  if (port === 0) return;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
        const why =
          err.code === 'EADDRINUSE'
            ? 'is already in use (another "npm start" or "func start"?)'
            : 'may not be used by this user';
        reject(new InputError(`port ${port} ${why}; choose another with ${option} N`));
      } else reject(err);
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}
