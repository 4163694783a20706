import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config/loadConfig.js';
import { parsePanoramaUrls } from '../../../shared/config/panoramaUrls.js';
import { checkProxySettings } from '../../../shared/config/proxySettings.js';
import { ConfigError } from '../../../shared/errors.js';
import { redact } from '../../../shared/logger.js';

describe('parsePanoramaUrls', () => {
  it.each<[string, string[], string[]]>([
    ['https://pano.example.net', ['https://pano.example.net'], []],
    ['https://pano.example.net/', ['https://pano.example.net'], []],
    [
      'https://pano-a.example.net, https://pano-b.example.net/',
      ['https://pano-a.example.net', 'https://pano-b.example.net'],
      [],
    ],
    ['http://127.0.0.1:1,http://127.0.0.1:2', ['http://127.0.0.1:1', 'http://127.0.0.1:2'], []],
    ['', [], ['PANORAMA_URL: missing; e.g. https://panorama.example.net']],
    ['   ', [], ['PANORAMA_URL: missing; e.g. https://panorama.example.net']],
    ['https://a.example.net,', ['https://a.example.net'], ['PANORAMA_URL: an empty item between commas']],
    [
      'https://a.example.net,https://b.example.net,https://c.example.net',
      ['https://a.example.net', 'https://b.example.net', 'https://c.example.net'],
      ['PANORAMA_URL: expected one URL or the two peers of an HA pair, got 3'],
    ],
    [
      'https://a.example.net,https://A.example.net/',
      ['https://a.example.net', 'https://A.example.net'],
      ['PANORAMA_URL: both HA peers name the same Panorama'],
    ],
    [
      'https://a.example.net,http://b.example.net',
      ['https://a.example.net', 'http://b.example.net'],
      ['PANORAMA_URL: http:// is only allowed for loopback hosts; use https://'],
    ],
    [
      'https://a.example.net,https://u:pw@b.example.net',
      ['https://a.example.net', 'https://u:pw@b.example.net'],
      ['PANORAMA_URL: must not contain credentials'],
    ],
  ])('%j', (raw, urls, problems) => {
    expect(parsePanoramaUrls(raw)).toEqual({ urls, problems });
  });
});

const BASE = {
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  PANORAMA_API_KEY: 'k-123456',
  CLUSTERS: '[]',
};

describe('loadConfig: PANORAMA_URL and proxies', () => {
  it('keeps both HA peers, normalised, in panorama.url', () => {
    const config = loadConfig({
      ...BASE,
      PANORAMA_URL: ' https://pano-a.example.net/ ,https://pano-b.example.net',
    });
    expect(config.panorama.url).toBe('https://pano-a.example.net,https://pano-b.example.net');
  });

  it('reports a bad proxy by name, never with its credentials, and registers them as secrets', () => {
    let error: unknown;
    try {
      loadConfig({
        ...BASE,
        PANORAMA_URL: 'https://p.example.net',
        HTTPS_PROXY: 'ftp://bob:Pr0xy-S3cret@proxy:21',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as ConfigError).problems.join('\n');
    expect(text).toContain('HTTPS_PROXY: expected an http:// or https:// proxy URL');
    expect(text).not.toContain('Pr0xy-S3cret');
    expect(redact('Proxy-Authorization: Basic Ym9iOlByMHh5LVMzY3JldA==')).not.toContain(
      'Ym9iOlByMHh5LVMzY3JldA==',
    );
  });

  it.each<[Record<string, string>, string[]]>([
    [{ HTTPS_PROXY: 'http://proxy.example.net:3128' }, []],
    [{ https_proxy: 'proxy.example.net:3128' }, []],
    [{ HTTP_PROXY: 'https://u:p%40ss@proxy.example.net' }, []],
    [{ HTTPS_PROXY: 'http://' }, ['HTTPS_PROXY: not a URL (expected http://host:port)']],
    [
      { http_proxy: 'socks5://proxy:1080' },
      ['http_proxy: expected an http:// or https:// proxy URL, got "socks5:"'],
    ],
    [{ NO_PROXY: '*' }, []],
  ])('checkProxySettings(%j)', (settings, problems) => {
    expect(checkProxySettings(settings)).toEqual(problems);
  });
});
