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

/**
 * `command` with the credentials in it replaced by `<redacted>`: `NAME=value` and `--name=value`
 * where the name is secret-like (FOO_SECRET=…, password=…, --token=…), `--name value` for such a
 * flag, the value of an `Authorization:` / `Cookie:` / secret-like header (its scheme such as
 * `Bearer` kept), and the password of a URL's `user:password@`.
 */
export function redactCommand(command: string): string {
  return (
    command
      // user:password@host
      .replace(/(\b[a-z][\w+.-]*:\/\/[^\s:/@'"]+:)[^\s@/'"]+@/gi, `$1${REDACTED}@`)
      // Authorization: Bearer x / Cookie: a=b / X-Api-Key: x (to the end of the quoted or unquoted header)
      .replace(new RegExp(String.raw`((?:authorization|cookie|${NAME}(?:secret|token|key|password))\s*:\s*)((?:bearer|basic|token)\s+)?([^"'\n]+)`, 'gi'), (all, head: string, scheme: string | undefined, _v: string) =>
        /:\/\//.test(all) ? all : `${head}${scheme ?? ''}${REDACTED}`,
      )
      // NAME=value, --name=value
      .replace(new RegExp(String.raw`((?:^|[\s;&|(])(?:--?)?)(${NAME})=(${VALUE})`, 'g'), (all, pre: string, name: string) => (SECRET_KEY.test(name) ? `${pre}${name}=${REDACTED}` : all))
      // --name value
      .replace(new RegExp(String.raw`((?:^|\s)--?(${NAME}))(\s+)(?!-)(${VALUE})`, 'g'), (all, flag: string, name: string, sp: string, value: string) =>
        SECRET_KEY.test(name) && value !== REDACTED ? `${flag}${sp}${REDACTED}` : all,
      )
  );
}

/** `env` with every value under a secret-like name replaced. */
export function redactEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, SECRET_KEY.test(k) ? REDACTED : v]));
}

/** `chaos.hooks` with the credentials in each command redacted. */
export function redactHooks<T extends Record<string, string | undefined>>(hooks: T): T {
  return Object.fromEntries(Object.entries(hooks).map(([k, v]) => [k, v === undefined ? v : redactCommand(v)])) as T;
}
