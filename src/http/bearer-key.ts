import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks `Authorization: Bearer <key>` against a key, in constant time: digests of equal length are compared, so
 * neither the key's length nor its content leaks through timing.
 */
export function bearerKeyCheck(key: string): (authorization: string | undefined) => boolean {
  const expected = sha256(key);
  return (authorization) => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
    return match !== null && timingSafeEqual(sha256(match[1] as string), expected);
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
