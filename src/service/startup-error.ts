/**
 * Start-up failures a person can fix, as one line: what went wrong and what to do about it. Anything else
 * still gets one line (its message), never a stack trace and never a process left hanging.
 */
import { settingName } from '../settings/setting-table.js';

const PORT = settingName('port');
const HOST = settingName('host');
const DATA_DIR = settingName('stores.dataDir');

export interface StartupContext {
  host: string;
  port: number;
  dataDir: string;
}

interface SystemError extends Error {
  code?: string;
  syscall?: string;
  path?: string;
  address?: string;
  port?: number;
}

export function describeStartupError(error: unknown, context: StartupContext): string {
  const err = (error instanceof Error ? error : new Error(String(error))) as SystemError;
  const where = `${context.host}:${context.port}`;
  if (err.syscall === 'listen' || err.syscall === 'bind') {
    switch (err.code) {
      case 'EADDRINUSE':
        return `cannot listen on ${where}: port ${context.port} is already in use (is the service already running?). Stop the other process or set ${PORT} to a free port.`;
      case 'EACCES':
      case 'EPERM':
        return `cannot listen on ${where}: permission denied${context.port < 1024 ? ' (ports below 1024 need root)' : ''}. Set ${PORT} to a port from 1024 to 65535.`;
      case 'EADDRNOTAVAIL':
        return `cannot listen on ${where}: ${context.host} is not an address of this machine. Set ${HOST} to one of its addresses, or 0.0.0.0 for all of them.`;
      default:
        return `cannot listen on ${where}: ${err.code ?? err.message}. Check ${HOST} and ${PORT}.`;
    }
  }
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
    return `cannot listen on ${where}: the host name ${context.host} does not resolve. Set ${HOST} to an address such as 0.0.0.0.`;
  }
  if (err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS') {
    return `cannot write ${err.path ?? 'the data directory'}: permission denied. Set ${DATA_DIR} to a directory this user can write (now "${context.dataDir}").`;
  }
  if (err.code === 'ENOTDIR' || err.code === 'EEXIST') {
    return `cannot use ${err.path ?? context.dataDir} as a directory: a file is in the way. Set ${DATA_DIR} to a directory (now "${context.dataDir}").`;
  }
  if (err.code === 'ENOSPC') return `cannot write to ${DATA_DIR} "${context.dataDir}": the disk is full.`;
  // better-sqlite3 reports an unwritable database with its own codes (SQLITE_CANTOPEN, SQLITE_READONLY).
  if (typeof err.code === 'string' && err.code.startsWith('SQLITE_')) {
    return `cannot open the database under ${DATA_DIR} "${context.dataDir}": ${firstLine(err.message)} (${err.code}). Check the directory is writable and not used by another process.`;
  }
  return `${firstLine(err.message)}${err.code === undefined ? '' : ` (${err.code})`}`;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
