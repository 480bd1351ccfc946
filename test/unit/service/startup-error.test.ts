import { describe, expect, it } from 'vitest';
import { describeStartupError } from '../../../src/service/startup-error.js';

const context = { host: '0.0.0.0', port: 80, dataDir: './data' };
const systemError = (fields: Record<string, unknown>) => Object.assign(new Error(String(fields.code)), fields);

describe('start-up error lines', () => {
  it('says what failed and what to set, for each failure a person can fix', () => {
    expect(describeStartupError(systemError({ code: 'EADDRINUSE', syscall: 'listen' }), context)).toMatch(/port 80 is already in use.*set PORT/);
    expect(describeStartupError(systemError({ code: 'EACCES', syscall: 'listen' }), context)).toMatch(/permission denied \(ports below 1024 need root\)\. Set PORT/);
    expect(describeStartupError(systemError({ code: 'EADDRNOTAVAIL', syscall: 'listen' }), { ...context, host: '10.9.9.9' })).toMatch(/10\.9\.9\.9 is not an address of this machine\. Set HOST/);
    expect(describeStartupError(systemError({ code: 'EACCES', syscall: 'mkdir', path: '/srv/data' }), context)).toMatch(/cannot write \/srv\/data: permission denied\. Set DATA_DIR/);
    expect(describeStartupError(systemError({ code: 'SQLITE_CANTOPEN', message: 'unable to open database file' }), context)).toMatch(/unable to open database file \(SQLITE_CANTOPEN\)/);
  });

  it('anything else is its first message line, never a stack', () => {
    const line = describeStartupError(new Error('something odd\nsecond line'), context);
    expect(line).toBe('something odd');
    expect(describeStartupError('a string', context)).toBe('a string');
  });
});
