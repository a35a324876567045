// TEST FIXTURE (NODE_OPTIONS=--require …): a reference node started with an option it does not
// know, so it exits with code 2 before it is ready (a node with a bad option). Every other node
// process (the wsbench CLI itself, load workers) is left alone.
if (/reference-server[\\/]main\.js$/.test(process.argv[1] ?? '')) {
  process.argv.push('--no-such-option');
}
