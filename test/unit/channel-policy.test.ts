import { describe, expect, it } from 'vitest';
import { channelProblem } from '#directory/domain/directory.ts';

describe('channelProblem: where webhooks may go', () => {
  const refusedEverywhere = [
    'http://169.254.169.254/latest/meta-data',
    'https://169.254.169.254/latest/meta-data',
    'https://10.1.2.3/hooks',
    'https://172.16.0.1/hooks',
    'https://172.31.255.255/hooks',
    'https://192.168.1.1/hooks',
    'https://0.0.0.0/hooks',
    'https://[::]/hooks',
    'https://[fe80::1]/hooks',
    'https://[fc00::1]/hooks',
    'https://[fd12:3456::1]/hooks',
    'https://[::ffff:10.0.0.1]/hooks',
    'http://example.org/hooks',
    'ftp://example.org/hooks',
  ];
  it.each(refusedEverywhere)('refuses %s under either policy', (url) => {
    expect(channelProblem(url, 'https-only')).toBeDefined();
    expect(channelProblem(url, 'allow-loopback-http')).toBeDefined();
  });

  const loopback = [
    'http://127.0.0.1:8080/hooks/team',
    'https://127.0.0.1/hooks',
    'http://[::1]:3000/hooks',
    'https://localhost/hooks',
  ];
  it.each(loopback)('refuses %s in AWS (https-only), allows it locally', (url) => {
    expect(channelProblem(url, 'https-only')).toMatch(/https|loopback/);
    expect(channelProblem(url, 'allow-loopback-http')).toBeUndefined();
  });

  it.each(['https://example.org/hooks', 'https://172.32.0.1/hooks', 'https://8.8.8.8/hooks'])(
    'allows the public https URL %s',
    (url) => {
      expect(channelProblem(url, 'https-only')).toBeUndefined();
      expect(channelProblem(url, 'allow-loopback-http')).toBeUndefined();
    },
  );

  it('names the rule, never the URL', () => {
    expect(channelProblem('http://169.254.169.254/latest/meta-data', 'https-only')).not.toContain('169.254');
  });
});
