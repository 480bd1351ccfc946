import { describe, expect, it } from 'vitest';
import { requireBinary } from '../../support/servers/process.js';

describe('test server launchers', () => {
  it('fail with the Debian package to install when a server binary is missing (tests fail, never skip)', () => {
    expect(() => requireBinary('/usr/sbin/no-such-haproxy', 'haproxy')).toThrow('apt-get install -y haproxy');
    expect(requireBinary('/bin/sh', 'dash')).toBe('/bin/sh');
  });
});
