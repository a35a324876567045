import { describe, expect, it } from 'vitest';
import { redactCommand, redactEnv, redactHooks, redactUrl } from './redact.js';
import { redactServer } from './user-server.js';

describe('redactCommand', () => {
  it('redacts credentials written into a command line: flags, env assignments, headers, URL userinfo and query, JSON', () => {
    const cases: Array<[string, string]> = [
      ['kubectl delete pod {node} --token=abc123 --grace-period=0', 'kubectl delete pod {node} --token=<redacted> --grace-period=0'],
      ['mysql -u root password=hunter2 -e x', 'mysql -u root password=<redacted> -e x'],
      ['DEPLOY_SECRET=s3cr3t API_KEY="a b" ./stop.sh {node}', 'DEPLOY_SECRET=<redacted> API_KEY=<redacted> ./stop.sh {node}'],
      ['curl -H "Authorization: Bearer eyJhbGciOi.x.y" http://127.0.0.1:9/kill', 'curl -H "Authorization: Bearer <redacted>" http://127.0.0.1:9/kill'],
      ["curl -H 'X-Api-Key: k-1' -H 'Cookie: sid=42' http://127.0.0.1/x", "curl -H 'X-Api-Key: <redacted>' -H 'Cookie: <redacted>' http://127.0.0.1/x"],
      ['vault --password hunter2 --token "t t" stop', 'vault --password <redacted> --token <redacted> stop'],
      ['redis-cli -u redis://admin:pw@127.0.0.1:6379 shutdown', 'redis-cli -u redis://admin:<redacted>@127.0.0.1:6379 shutdown'],
      // An empty user's password, a first query parameter, an unquoted header before a URL, a bare Token: and a JSON secret.
      ['redis-cli -u redis://:s3cret@127.0.0.1:6379 shutdown', 'redis-cli -u redis://:<redacted>@127.0.0.1:6379 shutdown'],
      ['curl -X POST https://ops/restart?token=abc', 'curl -X POST https://ops/restart?token=<redacted>'],
      ['curl https://ops/restart?node={node}&api_key=k1#x', 'curl https://ops/restart?node={node}&api_key=<redacted>#x'],
      ['curl --header=X-Api-Key:abc https://h/kill', 'curl --header=X-Api-Key:<redacted> https://h/kill'],
      ['curl -H Authorization:Bearer abc https://h/kill', 'curl -H Authorization:Bearer <redacted> https://h/kill'],
      ['echo Token: abc', 'echo Token: <redacted>'],
      ['curl -d \'{"node":"{node}","access_token":"abc","n":1}\' https://h/kill', 'curl -d \'{"node":"{node}","access_token":"<redacted>","n":1}\' https://h/kill'],
      ['curl -H "Authorization: Bearer x y" https://h/kill', 'curl -H "Authorization: Bearer <redacted>" https://h/kill'],
    ];
    for (const [command, redacted] of cases) expect(redactCommand(command), command).toBe(redacted);
  });

  it('leaves a command without credentials as it was', () => {
    for (const c of ['kubectl delete pod {node} --grace-period=0', 'docker kill wsb-node-{index}', 'curl -fsS {nodeUrl}/health', 'sh -c "kill -9 $(cat /tmp/n{index}.pid)"', 'node server.js --port {port} --redis {redisUrl}', 'curl https://127.0.0.1:9/kill?node={node}&force=1', 'redis-cli -u redis://127.0.0.1:6379 -n 1', 'echo \'{"node":"n","keep":"x"}\'']) {
      expect(redactCommand(c)).toBe(c);
    }
  });
});

describe('one redaction for every stored secret', () => {
  it('server.env, server.command and chaos.hooks', () => {
    expect(redactEnv({ JWT_SECRET: 'x', PORT: '1', DB_PASSWORD: 'y' })).toEqual({ JWT_SECRET: '<redacted>', PORT: '1', DB_PASSWORD: '<redacted>' });
    expect(redactServer({ command: 'node s.js --jwt-secret=abc', env: { API_TOKEN: 't' } })).toEqual({ command: 'node s.js --jwt-secret=<redacted>', env: { API_TOKEN: '<redacted>' } });
    expect(redactServer({ command: ['node', 's.js', '--api-key', 'k', '--port', '{port}'] })).toEqual({ command: ['node', 's.js', '--api-key', '<redacted>', '--port', '{port}'] });
    expect(redactHooks({ killNode: 'ssh ops@host FOO_SECRET=1 kill {node}', startNode: undefined })).toEqual({ killNode: 'ssh ops@host FOO_SECRET=<redacted> kill {node}', startNode: undefined });
  });
});

describe('redactUrl', () => {
  it('the password of user:password@ (an empty user too) and every query parameter with a secret-like name', () => {
    expect(redactUrl('wss://h:8443/ws?apikey=k1&room=a')).toBe('wss://h:8443/ws?apikey=<redacted>&room=a');
    expect(redactUrl('https://ops/restart?token=abc')).toBe('https://ops/restart?token=<redacted>');
    expect(redactUrl('ws://u:pw@127.0.0.1:8080/ws?x=1&access_token=t#frag')).toBe('ws://u:<redacted>@127.0.0.1:8080/ws?x=1&access_token=<redacted>#frag');
    expect(redactUrl('redis://:s3cret@127.0.0.1:6379')).toBe('redis://:<redacted>@127.0.0.1:6379');
    expect(redactUrl('ws://127.0.0.1:8080/socket.io/?EIO=4&transport=websocket')).toBe('ws://127.0.0.1:8080/socket.io/?EIO=4&transport=websocket');
    expect(redactUrl('not a url')).toBe('not a url');
  });
});
