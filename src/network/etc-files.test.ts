import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExtraHost, parseResolvConf, renderHosts, renderResolvConf } from './etc-files.js';

const host = parseResolvConf('# c\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n');

test('resolv.conf drops loopback servers and honours --dns*', () => {
  assert.deepEqual(host, { nameservers: ['127.0.0.53', '10.0.0.2'], search: ['corp.example'], options: ['edns0'] });
  const plain = renderResolvConf({ host });
  assert.match(plain, /nameserver 10\.0\.0\.2/);
  assert.doesNotMatch(plain, /127\.0\.0\.53/);
  const custom = renderResolvConf({ host, dns: ['1.1.1.1'], dnsSearch: ['a.test'], dnsOptions: ['ndots:2'] });
  assert.match(custom, /search a\.test\nnameserver 1\.1\.1\.1\noptions ndots:2/);
  const embedded = renderResolvConf({ host, embeddedDns: '172.18.0.1' });
  assert.match(embedded, /^nameserver 172\.18\.0\.1$/m);
  assert.match(embedded, /options ndots:0 edns0/);
  assert.match(renderResolvConf({ host: parseResolvConf('nameserver 127.0.0.1\n') }), /nameserver 8\.8\.8\.8/);
  assert.throws(() => renderResolvConf({ host, dns: ['not-an-ip'] }), /invalid dns server "not-an-ip"/);
});

test('hosts has localhost, extra hosts, links and the container itself', () => {
  const text = renderHosts({
    hostname: 'web', domainname: 'example.com', addresses: ['172.17.0.2'],
    extra: [parseExtraHost('db:10.0.0.5', undefined), parseExtraHost('gw:host-gateway', '172.17.0.1')],
    links: [{ ip: '172.17.0.3', names: ['cache', 'redis'] }],
  });
  assert.match(text, /^127\.0\.0\.1\tlocalhost$/m);
  assert.match(text, /^10\.0\.0\.5\tdb$/m);
  assert.match(text, /^172\.17\.0\.1\tgw$/m);
  assert.match(text, /^172\.17\.0\.3\tcache redis$/m);
  assert.match(text, /^172\.17\.0\.2\tweb\.example\.com web$/m);
  assert.throws(() => parseExtraHost('nohost', undefined), /expected name:ip/);
  assert.throws(() => parseExtraHost('x:999.1.1.1', undefined), /invalid ip "999\.1\.1\.1"/);
  assert.equal(parseExtraHost('v6:[::1]', undefined).ip, '::1');
});
