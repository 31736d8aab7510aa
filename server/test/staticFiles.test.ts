import { describe, expect, it } from 'vitest';
import { pathSegments } from '../src/http/staticFiles.ts';

describe('pathSegments', () => {
  it('decodes the path and drops the query', () => {
    expect(pathSegments('/assets/a%20b.js?x=1')).toEqual(['assets', 'a b.js']);
    expect(pathSegments('/')).toEqual([]);
  });
  it('refuses dotfiles, dot-folders, encoded climbs and malformed escapes', () => {
    for (const url of ['/.env', '/.git/config', '/a/%2e%2e%2f.env', '/a/..%2F..%2Fetc', '/%E0%A4%A', '/a%00b', '/a%5c..%5cb']) {
      expect(pathSegments(url), url).toBeUndefined();
    }
  });
});
