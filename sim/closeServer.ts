import type http from 'node:http';

/** Stops accepting connections, closes every open one (idle or not) and resolves once closed. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
