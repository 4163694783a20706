import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FailureKind, PanoramaError } from '../../../shared/errors.js';
import { parseDeviceGroups, selectDeviceGroups } from '../../../shared/panorama/deviceGroups.js';
import { isIdempotentEntryMessage, parsePanResponse } from '../../../shared/panorama/parsePanResponse.js';
import { parseRegisteredIpPage, registeredIpPageCommand } from '../../../shared/panorama/registeredIpPage.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/panorama/${name}`, import.meta.url), 'utf8');

function parsed(name: string) {
  const r = parsePanResponse(fixture(name));
  if (!r) throw new Error(`${name} did not parse`);
  return r;
}

describe('parsePanResponse', () => {
  it("reads the device's single-quoted 403 body verbatim (status = 'error' code = '403')", () => {
    const body = fixture('keygen-invalid-credential.xml');
    expect(body).toHaveLength(97);
    expect(parsePanResponse(body)).toEqual({
      status: 'error',
      code: 403,
      message: 'Invalid Credential',
      result: { msg: 'Invalid Credential' },
      uidEntries: [],
      hasUidResponse: false,
    });
  });

  it('reads the PAN-OS 6.0 duplicate-register capture as one register entry', () => {
    const r = parsed('register-duplicate-panos6.xml');
    expect(r.status).toBe('error');
    expect(r.code).toBeUndefined();
    expect(r.hasUidResponse).toBe(true);
    expect(r.uidEntries).toEqual([
      { section: 'register', ip: '192.168.1.2', message: 'tag your-tag already exists, ignore' },
    ]);
  });

  it('reads a uid-response success', () => {
    const r = parsed('uid-success.xml');
    expect(r).toMatchObject({ status: 'success', uidEntries: [], hasUidResponse: true });
  });

  it('reads every entry of both sections, whatever the attribute order', () => {
    expect(parsed('uid-mixed-errors.xml').uidEntries).toEqual([
      { section: 'unregister', ip: '10.0.0.9', message: 'ip 10.0.0.9 does not exist, ignore unreg' },
      { section: 'unregister', ip: 'xxx', message: 'Invalid IP address' },
      { section: 'register', ip: '10.0.0.1', message: 'tag aks.c1.web already exists, ignore' },
      { section: 'register', ip: '10.0.0.2', message: 'Failed to register' },
      { section: 'register', ip: '10.0.0.3', message: 'tag aks.c1.db already exists, ignore' },
    ]);
  });

  it('joins msg lines (CDATA included) and reads codes', () => {
    expect(parsed('invalid-command-cdata.xml')).toMatchObject({
      status: 'error',
      code: 17,
      message: 'show -> nonsense  is unexpected | second line',
    });
    expect(parsed('session-timed-out.xml')).toMatchObject({ code: 22, message: 'Session timed out' });
    expect(parsed('bad-request-single-quoted.xml')).toMatchObject({ status: 'error', code: 400 });
  });

  it.each([
    ['an HTML error page', '<html><head><title>502 Bad Gateway</title></head><body>bad</body></html>'],
    ['an empty body', ''],
    ['a cut body', '<response status="success"><result><entry ip="1.2.3.4">'],
    ['plain text', 'Service Unavailable'],
  ])('returns undefined for %s', (_name, body) => {
    expect(parsePanResponse(body)).toBeUndefined();
  });
});

describe('isIdempotentEntryMessage', () => {
  it.each([
    ['register', 'tag your-tag already exists, ignore', true],
    ['register', 'tag aks.x already exists, ignore ', true],
    ['register', 'Failed to register', false],
    ['register', 'Invalid IP address', false],
    ['register', 'ip 10.0.0.1 does not exist, ignore unreg', false],
    ['unregister', 'ip 10.0.0.1 does not exist, ignore unreg', true],
    ['unregister', 'tag aks.x does not exist, ignore unreg', true],
    ['unregister', 'ip 10.0.0.1 does not exist, ignore', true],
    ['unregister', 'tag aks.x already exists, ignore', false],
    ['unregister', 'Delete mapping failed', false],
  ] as const)('%s "%s" → %s', (section, message, expected) => {
    expect(isIdempotentEntryMessage(section, message)).toBe(expected);
  });
});

describe('registered-ip pages', () => {
  it('builds the paged command with a 1-based start-point', () => {
    expect(registeredIpPageCommand(501)).toBe(
      '<show><object><registered-ip><limit>500</limit><start-point>501</start-point><all/></registered-ip></object></show>',
    );
  });

  it('counts entry elements rather than trusting count, and decodes entities', () => {
    const page = parseRegisteredIpPage(parsed('registered-ip-page.xml'));
    expect(page.count).toBe(7);
    expect(page.entries).toEqual([
      { ip: '10.0.0.1', tags: ['aks.c1.web', 'manual', 'aks_front.c1.web'] },
      { ip: '2001:db8::5', tags: ['aks.c1.v6 & more'] },
      { ip: '10.0.0.2', tags: [] },
    ]);
  });

  it('raises a permanent error for the pre-8.0 outfile answer', () => {
    expect(() => parseRegisteredIpPage(parsed('registered-ip-outfile.xml'))).toThrow(/outfile/);
  });

  it('reads an empty result as no entries', () => {
    const r = parsePanResponse('<response status="success"><result></result></response>');
    expect(r && parseRegisteredIpPage(r)).toEqual({ entries: [] });
  });
});

describe('device groups', () => {
  it('reads firewalls with connected state; a group without <devices> has none', () => {
    expect(parseDeviceGroups(parsed('devicegroups.xml'))).toEqual([
      {
        name: 'dg-spoke-1',
        firewalls: [
          { serial: '007951000000001', deviceGroup: 'dg-spoke-1', connected: true, hostname: 'fw-spoke-1a' },
          { serial: '007951000000002', deviceGroup: 'dg-spoke-1', connected: false, hostname: 'fw-spoke-1b' },
        ],
      },
      { name: 'dg-empty', firewalls: [] },
      { name: 'dg-one', firewalls: [{ serial: '007951000000003', deviceGroup: 'dg-one', connected: true }] },
    ]);
  });

  it('selects named groups in order and names every unknown group in one permanent error', () => {
    const groups = parseDeviceGroups(parsed('devicegroups.xml'));
    expect(selectDeviceGroups(groups, ['dg-one', 'dg-empty']).map((f) => f.serial)).toEqual([
      '007951000000003',
    ]);
    try {
      selectDeviceGroups(groups, ['dg-one', 'dg-x', 'dg-y']);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PanoramaError);
      expect((err as PanoramaError).kind).toBe(FailureKind.permanent);
      expect((err as PanoramaError).details).toEqual({ missingDeviceGroups: ['dg-x', 'dg-y'] });
    }
  });
});
