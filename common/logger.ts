/** One logger with a component prefix (`wsbench:cluster node-2 …`), enabled by --debug or DEBUG=wsbench. */
let enabled = /\bwsbench\b/.test(process.env.DEBUG ?? '');

export function setDebug(on: boolean): void {
  enabled = on;
}

export function debugEnabled(): boolean {
  return enabled;
}

export function logger(component: string): (msg: string) => void {
  return (msg: string) => {
    if (enabled) process.stderr.write(`wsbench:${component} ${msg}\n`);
  };
}
