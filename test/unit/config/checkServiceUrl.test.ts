import { describe, expect, it } from 'vitest';
import { checkServiceUrl, isLoopbackHost } from '../../../shared/config/checkServiceUrl.js';

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', false],
    ['[::ffff:7f00:1]', false],
    ['::ffff:7f00:1', false],
    ['127.0.0.1.nip.io', false],
    ['10.0.0.1', false],
    ['localhost.example', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('checkServiceUrl for URLs a remote party supplies', () => {
  it.each([
    ['https://aks.example:443', undefined],
    ['http://127.0.0.1:8443', 'server: http:// is not allowed; use https://'],
    ['http://[::ffff:127.0.0.1]:8443', 'server: http:// is not allowed; use https://'],
    ['https://user:secret@aks.example', 'server: must not contain credentials'],
    ['https://aks example/secret', 'server: not a URL'],
  ])('%s from a remote party (no loopback http, value not echoed)', (url, expected) => {
    expect(checkServiceUrl('server', url, { loopbackHttp: false, echoValue: false })).toBe(expected);
  });
});
