/**
 * The one redaction of secrets before anything is printed or stored (the report's effective
 * config, the dry-run, config errors, hook runs in events): `server.env` values under a secret-like
 * name, and credentials written into a command line (`server.command`, `chaos.hooks.*`).
 */

/** A name whose value is a secret (an `env` key, a `--flag`, a `name=` pair, a header). */
export const SECRET_KEY = /SECRET|TOKEN|KEY|PASSWORD|PASSWD|CREDENTIAL/i;

export const REDACTED = '<redacted>';

/** A value in a command line: quoted, or up to the next blank or shell operator. */
const VALUE = String.raw`(?:"[^"]*"|'[^']*'|[^\s;&|'"]+)`;
const NAME = String.raw`[A-Za-z_][\w.-]*`;

/** A URL in a command line or text: scheme `://` up to the next blank or quote. */
const URL_IN_TEXT = /\b[a-z][\w+.-]*:\/\/[^\s'"]+/gi;

/**
 * `url` with its credentials replaced by `<redacted>`: the password of `user:password@` (an empty
 * user's too, `redis://:pw@host`) and the value of every query parameter whose name is
 * secret-like (`?token=`, `&apikey=`, `access_token=`). The one redaction of URLs: the report's
 * `topology.url`, the console, and URLs inside commands (`redactCommand`).
 */
export function redactUrl(url: string): string {
  const withoutPassword = url.replace(/^([a-z][\w+.-]*:\/\/[^\s:/@?#'"]*:)[^\s@/?#'"]+@/i, `$1${REDACTED}@`);
  const q = withoutPassword.indexOf('?');
  if (q < 0) return withoutPassword;
  const hash = withoutPassword.indexOf('#', q);
  const end = hash < 0 ? withoutPassword.length : hash;
  const query = withoutPassword.slice(q + 1, end).replace(/(^|[&;])([^=&;]+)=([^&;]*)/g, (all, sep: string, name: string) => (SECRET_KEY.test(name) ? `${sep}${name}=${REDACTED}` : all));
  return `${withoutPassword.slice(0, q + 1)}${query}${withoutPassword.slice(end)}`;
}

/** A header name whose value is a credential: Authorization, Cookie, or one ending in secret/token/key/password (`Token`, `X-Api-Key`). */
const HEADER = String.raw`(?<![\w./-])((?:authorization|cookie|[\w.-]*(?:secret|token|key|password))\s*:(?!\/\/)\s*)((?:bearer|basic|token)\s+)?`;

/**
 * `command` with the credentials in it replaced by `<redacted>`: URLs as `redactUrl` does them,
 * a JSON string under a secret-like key (`"access_token":"…"`), `NAME=value` and `--name=value`
 * where the name is secret-like (FOO_SECRET=…, password=…, --token=…), `--name value` for such a
 * flag, and the value of an `Authorization:` / `Cookie:` / secret-like header (its scheme such as
 * `Bearer` kept): inside quotes up to the closing quote, unquoted up to the next blank.
 */
export function redactCommand(command: string): string {
  return (
    command
      .replace(URL_IN_TEXT, (u) => redactUrl(u))
      // "access_token": "abc"
      .replace(/("([^"\\]*)"\s*:\s*")((?:[^"\\]|\\.)*)"/g, (all, head: string, name: string) => (SECRET_KEY.test(name) ? `${head}${REDACTED}"` : all))
      // Authorization: Bearer x / Cookie: a=b / X-Api-Key: x (quoted: to the quote; unquoted: to the next blank)
      .replace(new RegExp(String.raw`(["'])${HEADER}([^"'\n]*?)(?=\1)|${HEADER}(\S+)`, 'gi'), (all, quote: string | undefined, qHead: string, qScheme: string | undefined, qValue: string, head: string, scheme: string | undefined, value: string) => {
        if (quote !== undefined) return qValue === '' || qValue === REDACTED ? all : `${quote}${qHead}${qScheme ?? ''}${REDACTED}`;
        return value.startsWith(REDACTED) ? all : `${head}${scheme ?? ''}${REDACTED}`;
      })
      // NAME=value, --name=value
      .replace(new RegExp(String.raw`((?:^|[\s;&|(])(?:--?)?)(${NAME})=(${VALUE})`, 'g'), (all, pre: string, name: string, value: string) => (SECRET_KEY.test(name) && !value.startsWith(REDACTED) ? `${pre}${name}=${REDACTED}` : all))
      // --name value
      .replace(new RegExp(String.raw`((?:^|\s)--?(${NAME}))(\s+)(?!-)(${VALUE})`, 'g'), (all, flag: string, name: string, sp: string, value: string) =>
        SECRET_KEY.test(name) && !value.startsWith(REDACTED) ? `${flag}${sp}${REDACTED}` : all,
      )
  );
}

/** An argv with the credentials in it redacted (`--token=x`, `--token x`, `A_SECRET=x`). */
export function redactArgv(argv: string[]): string[] {
  return argv.map((a, i) => (i > 0 && /^--?[\w.-]+$/.test(argv[i - 1]) && SECRET_KEY.test(argv[i - 1]) && !a.startsWith('-') ? REDACTED : redactCommand(a)));
}

/** `env` with every value under a secret-like name replaced. */
export function redactEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, SECRET_KEY.test(k) ? REDACTED : v]));
}

/** `chaos.hooks` with the credentials in each command redacted. */
export function redactHooks<T extends Record<string, string | undefined>>(hooks: T): T {
  return Object.fromEntries(Object.entries(hooks).map(([k, v]) => [k, v === undefined ? v : redactCommand(v)])) as T;
}
