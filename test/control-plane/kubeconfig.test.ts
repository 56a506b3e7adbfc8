import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseEnvFile } from './config.ts';
import { renderKubeconfig, tokenFileLine } from './kubeconfig.ts';

describe('renderKubeconfig', () => {
  it('renders one context with the CA inline and the token', () => {
    const doc = parse(
      renderKubeconfig({
        server: 'https://127.0.0.1:6443',
        caPem: 'PEM',
        token: 't0k',
        user: 'admin',
        namespace: 'ns',
      }),
    );
    expect(doc).toMatchObject({
      'current-context': 'next-image-test',
      clusters: [
        {
          cluster: {
            server: 'https://127.0.0.1:6443',
            'certificate-authority-data': Buffer.from('PEM').toString('base64'),
          },
        },
      ],
      users: [{ name: 'admin', user: { token: 't0k' } }],
      contexts: [{ context: { user: 'admin', namespace: 'ns' } }],
    });
  });
});

describe('tokenFileLine', () => {
  it.each([
    [['system:masters'], 'tok,alice,alice,"system:masters"'],
    [['a', 'b'], 'tok,alice,alice,"a,b"'],
    [[], 'tok,alice,alice,""'],
  ])('quotes the groups %j', (groups, line) => {
    expect(tokenFileLine('tok', 'alice', groups)).toBe(line);
  });
});

describe('parseEnvFile', () => {
  it('reads KEY=value lines and ignores comments and blanks', () => {
    const env = parseEnvFile('# pinned\nK8S_VERSION=1.37.2\n\n ETCD_VERSION = 3.6.16 \n');
    expect([...env]).toEqual([
      ['K8S_VERSION', '1.37.2'],
      ['ETCD_VERSION', '3.6.16'],
    ]);
  });
});
