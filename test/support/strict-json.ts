/**
 * A JSON parser that refuses what JSON.parse accepts silently: an object with the same key twice (JSON.parse keeps
 * the last; log pipelines differ, some keep the first). Otherwise RFC 8259 as JSON.parse reads it, which checks the
 * text first, so this parser only walks text already known to be valid.
 */
export class DuplicateKeyError extends Error {
  override readonly name = 'DuplicateKeyError';
}

export function parseStrictJson(text: string): unknown {
  const value = JSON.parse(text) as unknown; // syntax errors are JSON.parse's to report
  let at = 0;
  const skipSpace = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text[at]!)) at++;
  };
  const string = (): string => {
    const start = at;
    at++; // opening quote
    while (text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    at++;
    return JSON.parse(text.slice(start, at)) as string;
  };
  const walk = (path: string): void => {
    skipSpace();
    const char = text[at];
    if (char === '{') {
      at++;
      const keys = new Set<string>();
      skipSpace();
      while (text[at] !== '}') {
        skipSpace();
        const key = string();
        if (keys.has(key)) throw new DuplicateKeyError(`duplicate key "${key}" in ${path === '' ? 'the top-level object' : path}`);
        keys.add(key);
        skipSpace();
        at++; // colon
        walk(`${path}.${key}`);
        skipSpace();
        if (text[at] === ',') at++;
        skipSpace();
      }
      at++;
    } else if (char === '[') {
      at++;
      skipSpace();
      for (let index = 0; text[at] !== ']'; index++) {
        walk(`${path}[${index}]`);
        skipSpace();
        if (text[at] === ',') at++;
        skipSpace();
      }
      at++;
    } else if (char === '"') {
      string();
    } else {
      while (at < text.length && !',]} \t\n\r'.includes(text[at]!)) at++; // number, true, false, null
    }
  };
  walk('');
  return value;
}
